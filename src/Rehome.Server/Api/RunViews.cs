using Rehome.Core.Mappings;
using Rehome.Core.Runs;

namespace Rehome.Server.Api;

/// <summary>
/// A job. <see cref="DryRun"/>: a preview that changed nothing (its areas count what would change);
/// <see cref="RevertOf"/>: the job it reverts; <see cref="RevertedBy"/>: the latest job asked to revert it.
/// </summary>
public sealed record JobView(
    Guid Id, Guid RunId, Guid MappingId, JobKind Kind, string KindName, JobStatus Status, string StatusName,
    Guid? PrerequisiteJobId, int Attempts, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt,
    DateTimeOffset UpdatedAt, int ItemsDone, int ItemsTotal, int ItemsChanged, int ItemsFailed, string? ErrorCode, string? ErrorMessage,
    bool StopRequested, Guid? AgentId, string? Step, string? Message, bool DryRun, Guid? RevertOf, Guid? RevertedBy,
    IReadOnlyList<AreaCountView> Areas)
{
    public static JobView From(Job j) => new(
        j.Id, j.RunId, j.MappingId, j.Kind, j.Kind.DisplayName(), j.Status, j.Status.DisplayName(), j.PrerequisiteJobId, j.Attempts,
        j.CreatedAt, j.StartedAt, j.FinishedAt, j.UpdatedAt, j.ItemsDone, j.ItemsTotal, j.ItemsChanged, j.ItemsFailed,
        j.ErrorCode, j.ErrorMessage, j.StopRequested, j.AgentId, j.Step, j.Message, j.DryRun, j.RevertOf, j.RevertedBy,
        [.. (j.Areas ?? []).Select(a => AreaCountView.From(a, j.DryRun))])
    {
        AgentVersion = j.AgentVersion,
    };

    /// <summary>The version of the agent that ran the job (the one it ran when it leased the job).</summary>
    public string? AgentVersion { get; init; }

    /// <summary>What the job is beside its kind, for people: "dry run", "revert of …", "reverted by …".</summary>
    public string? Note => DryRun ? "dry run (changed nothing)"
        : RevertOf is { } of ? $"revert of job {of}"
        : RevertedBy is { } by ? $"reverted by job {by}"
        : null;
}

/// <summary>
/// One area's counts of a permissions or profile job (in a dry run: what would change); <see cref="Problem"/> says
/// why the area was not done, and <see cref="Summary"/> says it all in one line.
/// </summary>
public sealed record AreaCountView(string Area, string Name, int Seen, int Changed, int Failed, string? Problem, string Summary)
{
    public static AreaCountView From(JobAreaCount a, bool dryRun) =>
        new(a.Area, JobAreaCounts.DisplayName(a.Area), a.Seen, a.Changed, a.Failed, a.Problem, a.Describe(dryRun));
}

public sealed record MappingView(
    Guid Id, Guid ProjectId, string SourceDevice, string DestinationName, string? DestinationOu, string? PrimaryUser,
    string? DestinationUser, Guid? AgentId, JobKind? Stage, JobStatus? Status, Guid? LastRunId, Guid? LastJobId, int ItemsDone, int ItemsTotal,
    DateTimeOffset? RejoinedAt, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    ReadinessState? Readiness = null, string? ReadinessReasons = null, DateTimeOffset? ReadinessCheckedAt = null)
{
    public static MappingView From(Mapping m) => new(
        m.Id, m.ProjectId, m.SourceDevice, m.DestinationName, m.DestinationOu, m.PrimaryUser, m.DestinationUser, m.AgentId,
        m.Stage, m.Status, m.LastRunId, m.LastJobId, m.ItemsDone, m.ItemsTotal, m.RejoinedAt, m.CreatedAt, m.UpdatedAt,
        m.Readiness, m.ReadinessReasons, m.ReadinessCheckedAt);
}

/// <summary>
/// A mapping's whole history: every job of every run, newest run first, with the device's log and the items its
/// jobs touched (newest <see cref="MaxLines"/> of each).
/// </summary>
public sealed record MappingReport(MappingView Mapping, IReadOnlyList<MappingReportRun> Runs, IReadOnlyList<LogLineView> Log, IReadOnlyList<ItemView> Items)
{
    public const int MaxLines = 2000;
}

public sealed record LogLineView(Guid JobId, DateTimeOffset At, string Level, string Text);

public sealed record ItemView(Guid JobId, string Item, string Outcome, string? Error, DateTimeOffset At);

public sealed record MappingReportRun(
    Guid RunId, string RequestedBy, DateTimeOffset CreatedAt, DateTimeOffset StartAt, IReadOnlyList<JobView> Jobs, bool DryRun = false);

public sealed record RunView(
    Guid Id, Guid ProjectId, string RequestedBy, DateTimeOffset CreatedAt, DateTimeOffset StartAt, DateTimeOffset? ReleasedAt,
    IReadOnlyList<JobKind> Kinds, int MappingCount, int JobCount, Guid? RerunOf, bool DryRun)
{
    public static RunView From(Run r) => new(
        r.Id, r.ProjectId, r.RequestedBy, r.CreatedAt, r.StartAt, r.ReleasedAt,
        r.Kinds.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(Enum.Parse<JobKind>).ToList(), r.MappingCount, r.JobCount, r.RerunOf, r.DryRun);
}

/// <summary>A run with how many of its jobs stand in each status, per job kind.</summary>
public sealed record RunStatusView(RunView Run, IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> JobsByKindAndStatus, bool IsOver);
