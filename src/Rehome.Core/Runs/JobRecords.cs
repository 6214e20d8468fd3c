namespace Rehome.Core.Runs;

/// <summary>One line of a device's log for a job, as the agent uploaded it.</summary>
public sealed class JobLogLine
{
    public long Id { get; set; }

    public Guid JobId { get; set; }

    /// <summary>The agent's chunk number; a resent chunk is recognised and ignored.</summary>
    public long Sequence { get; set; }

    public int LineNumber { get; set; }

    public DateTimeOffset At { get; set; }

    public required string Level { get; set; }

    public required string Text { get; set; }
}

/// <summary>An item a job touched and what happened to it (failed items are the "Exceptions").</summary>
public sealed class JobItem
{
    public long Id { get; set; }

    public Guid JobId { get; set; }

    public required string Item { get; set; }

    public required string Outcome { get; set; }

    public string? Error { get; set; }

    public DateTimeOffset At { get; set; }
}
