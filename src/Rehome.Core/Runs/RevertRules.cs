namespace Rehome.Core.Runs;

/// <summary>The facts about a job that decide whether it may be reverted.</summary>
/// <param name="Kind">The job's kind.</param>
/// <param name="Status">The job's status.</param>
/// <param name="DryRun">The job was a preview.</param>
/// <param name="IsRevert">The job is itself a revert of another.</param>
/// <param name="LatestRevertStatus">The status of the latest job asked to revert it, if one was.</param>
/// <param name="JobActiveOnMapping">A job of any kind waits or runs on the mapping.</param>
/// <param name="LaterJobNotReverted">
/// A later real (not dry-run, not revert) job of the same kind ran on the mapping and was not reverted: reverting
/// this one would overwrite what that one changed.
/// </param>
public sealed record RevertFacts(
    JobKind Kind, JobStatus Status, bool DryRun, bool IsRevert, JobStatus? LatestRevertStatus, bool JobActiveOnMapping, bool LaterJobNotReverted);

/// <summary>
/// When an ended permissions or profile job may be reverted on its device (the agent restores what its journals
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
    public const string LaterJobNotReverted = "LaterJobNotReverted";

    /// <summary>Null when the job may be reverted, else the reason (a conflict with the job's state).</summary>
    public static RunRefusal? Check(RevertFacts job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var name = job.Kind.DisplayName();
        if (!job.Kind.CanDryRun())
        {
            return new(KindNotRevertible, $"Only Migrate permissions and Migrate Windows user profile jobs can be reverted; this is a {name} job.");
        }
        // Stopped and Failed count too: a job stopped or whose lease lapsed may have changed items before it ended
        // (the device refuses, saying so, a job it rolled back itself).
        if (job.Status.IsActive())
        {
            return new(JobNotFinished, $"Only a job that ended can be reverted; this one is {job.Status.DisplayName()}: stop it or let it end first.");
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
        if (job.LaterJobNotReverted)
        {
            return new(LaterJobNotReverted,
                $"A later {name} job ran on this device and was not reverted: reverting this one would overwrite what that one changed. Revert the later one first.");
        }
        if (job.JobActiveOnMapping)
        {
            return new(RunRules.JobAlreadyActive,
                "The device already has a job waiting or in progress; stop it or let it finish before reverting.");
        }
        return null;
    }
}
