using Rehome.Core.Runs;
using Rehome.Server.Api;

namespace Rehome.Server.Reports;

/// <summary>How many jobs of a kind stand in a status.</summary>
public sealed record StatusCount(JobKind Kind, JobStatus Status, int Count);

/// <summary>How long the jobs of a kind ran (started → finished), over the <see cref="Count"/> jobs that did both.</summary>
public sealed record DurationStats(JobKind Kind, int Count, TimeSpan Minimum, TimeSpan Median, TimeSpan Maximum);

/// <summary>A Re-ACL area's counts summed over jobs; <see cref="NotDone"/> counts the jobs that could not do the area.</summary>
public sealed record AreaTotal(string Area, long Seen, long Changed, long Failed, int NotDone);

/// <summary>A job that did not finish cleanly, with its device, its reason and what to do about it.</summary>
public sealed record FailureRow(
    Guid JobId, Guid RunId, string SourceDevice, string DestinationName, JobKind Kind, JobStatus Status, string? ErrorCode, string? Reason,
    DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt)
{
    public string? Advice => JobAdvice.For(Status, ErrorCode);
}

/// <summary>What a set of jobs adds up to: counts by kind and status, durations per kind, areas, and whether all are over.</summary>
public sealed record JobTotals(
    IReadOnlyList<StatusCount> ByKindAndStatus, IReadOnlyList<DurationStats> Durations, IReadOnlyList<AreaTotal> Areas, bool IsOver,
    DateTimeOffset? LastFinished)
{
    public int Count => ByKindAndStatus.Sum(c => c.Count);
}

/// <summary>A run's report: the run, its project, its jobs' totals; its failures are streamed beside it.</summary>
public sealed record RunReport(RunView Run, string ProjectName, DateTimeOffset GeneratedAt, JobTotals Jobs)
{
    /// <summary>When the run ended: its last job's end, once every job is over (and it has started).</summary>
    public DateTimeOffset? End => Jobs.IsOver && Run.ReleasedAt is not null ? Jobs.LastFinished ?? Run.StartAt : null;
}

/// <summary>One run in a project's report, with its jobs by status.</summary>
public sealed record RunLine(RunView Run, IReadOnlyList<(JobStatus Status, int Count)> ByStatus, DateTimeOffset? End);

/// <summary>How many mappings stand at a stage in a status (both null: not started).</summary>
public sealed record MappingStateCount(JobKind? Stage, JobStatus? Status, int Count);

/// <summary>
/// A project's report: its mappings by state, its runs with their counts, and the totals of each mapping's latest
/// job of each kind (a job re-run later counts once, as it stands now); its failures are streamed beside it.
/// </summary>
public sealed record ProjectReport(
    Guid Id, string Name, DateTimeOffset GeneratedAt, IReadOnlyList<MappingStateCount> Mappings, IReadOnlyList<RunLine> Runs, JobTotals LatestJobs)
{
    public int MappingCount => Mappings.Sum(m => m.Count);
}
