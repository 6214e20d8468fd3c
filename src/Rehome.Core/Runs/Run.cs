namespace Rehome.Core.Runs;

/// <summary>One click of OK: a set of mappings × a set of job kinds, now or at a scheduled time.</summary>
public sealed class Run
{
    public Guid Id { get; set; }

    public Guid ProjectId { get; set; }

    public required string RequestedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When the run starts; equal to <see cref="CreatedAt"/> for a run started now.</summary>
    public DateTimeOffset StartAt { get; set; }

    /// <summary>When its scheduled jobs were released; set at once for a run started now.</summary>
    public DateTimeOffset? ReleasedAt { get; set; }

    /// <summary>The job kinds asked for, in order, comma separated (e.g. <c>RejoinDomain,MigratePermissions</c>).</summary>
    public required string Kinds { get; set; }

    public int MappingCount { get; set; }

    public int JobCount { get; set; }

    /// <summary>The run this one re-runs, if it is a re-run.</summary>
    public Guid? RerunOf { get; set; }

    /// <summary>
    /// A preview: its jobs count what would change and change nothing. It is not the mappings' stage (their status
    /// stays what their last real run made it) and no rule counts it as a migration.
    /// </summary>
    public bool DryRun { get; set; }

    /// <summary>
    /// When its mappings' rows were written to show it. At once for a run written as job rows, and for a dry run (which
    /// no mapping shows). A run written as run items writes no mapping when it is accepted: its mappings show it through
    /// the mapping_states view until the run engine writes their rows to say the same, in the background, and sets this.
    /// While it is null and the run has items, reads of its project's mappings go through the view.
    /// </summary>
    public DateTimeOffset? MappingsShownAt { get; set; }
}
