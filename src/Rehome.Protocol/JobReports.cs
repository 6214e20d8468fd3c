namespace Rehome.Protocol;

/// <summary>A lease renewal with the job's live progress.</summary>
public sealed record ProgressReport
{
    public required Guid LeaseToken { get; init; }

    /// <summary>The step running now, by name (for example "LeaveSource").</summary>
    public required string Step { get; init; }

    public int StepNumber { get; init; }

    public int StepCount { get; init; }

    public int ItemsDone { get; init; }

    public int ItemsTotal { get; init; }

    public int ItemsChanged { get; init; }

    public int ItemsFailed { get; init; }

    public string? Message { get; init; }

    /// <summary>Item-level results since the last report (failed items, mostly); at most <see cref="MaxItems"/>.</summary>
    public IReadOnlyList<ItemResult> Items { get; init; } = [];

    /// <summary>The Re-ACL's counts so far, one per area (permissions and profile jobs).</summary>
    public IReadOnlyList<AreaCount> Areas { get; init; } = [];

    /// <summary>
    /// The job's log lines not sent yet, the first of them line <see cref="LogSequence"/>, sent with the renewal instead
    /// of apart: one request and one write where there were two. At most <see cref="LogChunk.MaxLines"/>. A server that
    /// stored them says so (<see cref="ProgressAnswer.LogLinesTaken"/>); an older one ignores them, and the agent sends
    /// them apart.
    /// </summary>
    public IReadOnlyList<LogLine> LogLines { get; init; } = [];

    /// <summary>The number of the first of <see cref="LogLines"/> in the job's log (as <see cref="LogChunk.Sequence"/>).</summary>
    public long LogSequence { get; init; }

    public const int MaxItems = 1000;
}

public enum ItemOutcome
{
    Changed,
    Failed,
    Skipped,
}

/// <summary>One item a job touched (a file, a registry key, a group) and what happened to it.</summary>
public sealed record ItemResult(string Item, ItemOutcome Outcome, string? Error);

/// <summary>The server's answer to a renewal.</summary>
/// <param name="StopRequested">An administrator asked the job to stop.</param>
/// <param name="ReportSeconds">
/// How long to wait before the next report, when the server is busy with many running jobs (their lease lasts four
/// such waits); null: the agent's own pace. Older servers never send it.
/// </param>
/// <param name="LogLinesTaken">How many of the report's log lines the server stored; null from older servers, which ignore them.</param>
public sealed record ProgressAnswer(bool StopRequested, int? ReportSeconds = null, int? LogLinesTaken = null);

/// <summary>A chunk of the device's log for a job; <see cref="Sequence"/> makes a resent chunk harmless.</summary>
public sealed record LogChunk
{
    /// <summary>The job's lease token: only the lease holder writes the job's log.</summary>
    public required Guid LeaseToken { get; init; }

    public required long Sequence { get; init; }

    public required IReadOnlyList<LogLine> Lines { get; init; }

    public const int MaxLines = 500;
}

public sealed record LogLine(DateTimeOffset At, string Level, string Text);

/// <summary>How a job ended on the device.</summary>
public enum CompletionStatus
{
    Finished,
    Exceptions,
    Failed,
    Stopped,
}

public sealed record CompletionReport
{
    public required Guid LeaseToken { get; init; }

    public required CompletionStatus Status { get; init; }

    public int ItemsDone { get; init; }

    public int ItemsTotal { get; init; }

    public int ItemsChanged { get; init; }

    public int ItemsFailed { get; init; }

    /// <summary>The Re-ACL's final counts, one per area (permissions and profile jobs).</summary>
    public IReadOnlyList<AreaCount> Areas { get; init; } = [];

    /// <summary>A stable code for automation (for example "step-failed"), with <see cref="ErrorMessage"/> for a person.</summary>
    public string? ErrorCode { get; init; }

    public string? ErrorMessage { get; init; }
}

/// <summary>The device's source identities the Re-ACL found; the server answers with their destination SIDs.</summary>
public sealed record SidMapRequest(Guid LeaseToken, IReadOnlyList<string> Sids)
{
    public const int MaxSids = 100_000;
}

public sealed record SidPair(string Source, string Destination);

public sealed record UnmappedSid(string Sid, string Reason);

public sealed record SidMapAnswer(IReadOnlyList<SidPair> Pairs, IReadOnlyList<UnmappedSid> Unmapped);

/// <summary>What the server does in a directory for the device (it holds the credentials).</summary>
public enum DirectoryAction
{
    /// <summary>Add the destination device object to the groups mapped from the source device's groups.</summary>
    MigrateEntraIdGroups,

    /// <summary>Import the hardware hash into the destination tenant's Autopilot (or report how the import goes).</summary>
    ImportAutopilotDevice,
}

public sealed record DirectoryActionRequest
{
    public required Guid LeaseToken { get; init; }

    public required DirectoryAction Action { get; init; }

    public string? SourceEntraDeviceId { get; init; }

    public string? DestinationEntraDeviceId { get; init; }

    public string? SerialNumber { get; init; }

    /// <summary>The device's hardware hash (base64), for Autopilot.</summary>
    public string? HardwareHash { get; init; }
}

public enum DirectoryActionState
{
    Done,

    /// <summary>Under way (an Autopilot import takes minutes): ask again.</summary>
    Pending,

    Failed,
}

public sealed record DirectoryActionAnswer(DirectoryActionState State, string? Message, IReadOnlyList<ItemResult> Items);
