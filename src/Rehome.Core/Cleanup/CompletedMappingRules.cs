using Rehome.Core.Runs;

namespace Rehome.Core.Cleanup;

/// <summary>One job of a mapping, as the rule for "completed" sees it.</summary>
/// <param name="Kind">The job's kind.</param>
/// <param name="Status">Its status now.</param>
/// <param name="CreatedAt">When its run made it: the latest job of a kind is what the device went through last.</param>
/// <param name="DryRun">A preview: it changed nothing on the device.</param>
/// <param name="IsRevert">It reverted an earlier job of its kind on the device.</param>
public sealed record CompletedJobFact(JobKind Kind, JobStatus Status, DateTimeOffset CreatedAt, bool DryRun = false, bool IsRevert = false);

/// <summary>Why a mapping is kept by "remove completed mappings" (the answer counts mappings by these).</summary>
public enum KeptReason
{
    /// <summary>No job changed the device yet (never run, or only previews).</summary>
    NeverRun,

    /// <summary>A job waits, is scheduled or runs.</summary>
    Active,

    /// <summary>The latest job of some kind failed.</summary>
    Failed,

    /// <summary>The latest job of some kind ended with item errors.</summary>
    Exceptions,

    /// <summary>The latest job of some kind was stopped.</summary>
    Stopped,

    /// <summary>The latest job of some kind reverted what an earlier one did: the device is not migrated in that respect.</summary>
    Reverted,
}

/// <summary>
/// When a mapping's migration is complete, so that the mapping (and its jobs) may be removed once a migration is
/// over. Pure: the API, the console and the CLI get the same answer.
/// </summary>
public static class CompletedMappingRules
{
    /// <summary>
    /// Null when the mapping is complete: it has at least one real (not preview) job, nothing waits or runs, and the
    /// latest real job of every kind it ran is Finished and is not a revert. Otherwise the reason it is kept; when
    /// several apply, the first of Active, Failed, Exceptions, Stopped, Reverted, NeverRun (what needs looking at first).
    /// </summary>
    public static KeptReason? Check(IEnumerable<CompletedJobFact> jobs)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        var all = jobs.ToList();
        if (all.Any(j => j.Status.IsActive()))
        {
            return KeptReason.Active;
        }
        // A preview changed nothing: it neither completes a mapping nor spoils one.
        var latest = all.Where(j => !j.DryRun)
            .GroupBy(j => j.Kind)
            .Select(g => g.MaxBy(j => j.CreatedAt)!)
            .ToList();
        if (latest.Count == 0)
        {
            return KeptReason.NeverRun;
        }
        KeptReason? worst = null;
        foreach (var job in latest)
        {
            var reason = job.Status switch
            {
                JobStatus.Failed => KeptReason.Failed,
                JobStatus.Exceptions => KeptReason.Exceptions,
                JobStatus.Stopped => KeptReason.Stopped,
                _ => job.IsRevert ? KeptReason.Reverted : (KeptReason?)null,
            };
            if (reason is { } r && (worst is null || r < worst))
            {
                worst = r;
            }
        }
        return worst;
    }

    /// <summary>A sentence for a count of mappings kept for <paramref name="reason"/>.</summary>
    public static string Describe(KeptReason reason) => reason switch
    {
        KeptReason.NeverRun => "no job has changed the device yet",
        KeptReason.Active => "a job waits or runs",
        KeptReason.Failed => "the latest job of a kind failed",
        KeptReason.Exceptions => "the latest job of a kind ended with exceptions",
        KeptReason.Stopped => "the latest job of a kind was stopped",
        KeptReason.Reverted => "the latest job of a kind reverted the migration",
        _ => reason.ToString(),
    };
}
