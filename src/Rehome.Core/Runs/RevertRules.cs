namespace Rehome.Core.Runs;

/// <summary>The facts about a job that decide whether it may be reverted.</summary>
/// <param name="Kind">The job's kind.</param>
/// <param name="Status">The job's status.</param>
/// <param name="DryRun">The job was a preview.</param>
/// <param name="IsRevert">The job is itself a revert of another.</param>
/// <param name="LatestRevertStatus">The status of the latest job asked to revert it, if one was.</param>
/// <param name="KindActiveOnMapping">Another job of the same kind waits or runs on the mapping.</param>
public sealed record RevertFacts(JobKind Kind, JobStatus Status, bool DryRun, bool IsRevert, JobStatus? LatestRevertStatus, bool KindActiveOnMapping);

/// <summary>
/// When a finished permissions or profile job may be reverted on its device (the agent restores what its journals
/// recorded). Pure: the API, the console and the CLI get the same answer.
/// </summary>
public static class RevertRules
{
    public const string KindNotRevertible = "KindNotRevertible";
    public const string JobNotFinished = "JobNotFinished";
    public const string DryRunChangedNothing = "DryRunChangedNothing";
    public const string JobIsARevert = "JobIsARevert";
    public const string AlreadyReverted = "AlreadyReverted";
    public const string RevertUnderway = "RevertUnderway";

    /// <summary>Null when the job may be reverted, else the reason (a conflict with the job's state).</summary>
    public static RunRefusal? Check(RevertFacts job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var name = job.Kind.DisplayName();
        if (!job.Kind.CanDryRun())
        {
            return new(KindNotRevertible, $"Only Migrate permissions and Migrate Windows user profile jobs can be reverted; this is a {name} job.");
        }
        if (job.Status is not (JobStatus.Finished or JobStatus.Exceptions))
        {
            return new(JobNotFinished,
                $"Only a job that ended Finished or Exceptions can be reverted; this one is {job.Status.DisplayName()}" +
                (job.Status.IsActive() ? ": stop it or let it end first." : ": it rolled back what it had changed, or it changed nothing."));
        }
        if (job.DryRun)
        {
            return new(DryRunChangedNothing, $"This {name} job was a dry run: it changed nothing, so there is nothing to revert.");
        }
        if (job.IsRevert)
        {
            return new(JobIsARevert, $"This job is itself a revert; to migrate again, start {name} as a new run.");
        }
        if (job.LatestRevertStatus is { } revert)
        {
            if (revert.IsActive())
            {
                return new(RevertUnderway, "A revert of this job is already waiting or in progress.");
            }
            if (revert is JobStatus.Finished or JobStatus.Exceptions)
            {
                return new(AlreadyReverted, "This job was already reverted.");
            }
            // A revert that failed or was stopped may be asked for again.
        }
        if (job.KindActiveOnMapping)
        {
            return new(RunRules.JobAlreadyActive,
                $"The device already has a {name} job waiting or in progress; stop it or let it finish before reverting.");
        }
        return null;
    }
}
