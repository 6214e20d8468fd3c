namespace Rehome.Server.Store;

/// <summary>
/// An archived project's reports in one zip, kept in the store rather than the data folder: every replica serves it,
/// a backup of the database holds it, and it goes with its project (cascade).
/// </summary>
public sealed class ProjectArchive
{
    public Guid ProjectId { get; set; }

    public required string FileName { get; set; }

    public required byte[] Content { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public required string CreatedBy { get; set; }
}
