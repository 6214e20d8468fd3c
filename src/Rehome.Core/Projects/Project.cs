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
}
