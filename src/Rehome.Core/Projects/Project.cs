namespace Rehome.Core.Projects;

/// <summary>A migration project: one source, one destination, one policy and its device mappings.</summary>
public sealed class Project
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public List<string> Tags { get; set; } = [];

    public Guid SourceConnectionId { get; set; }

    public Guid DestinationConnectionId { get; set; }

    public Guid PolicyId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Set when an administrator archived the project: read-only, its reports kept in one zip (<c>ProjectArchive</c>).</summary>
    public DateTimeOffset? ArchivedAt { get; set; }

    public string? ArchivedBy { get; set; }
}
