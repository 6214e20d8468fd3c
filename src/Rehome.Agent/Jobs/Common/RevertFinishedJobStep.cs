using Rehome.Agent.Journal;
using Rehome.Protocol;

namespace Rehome.Agent.Jobs.Common;

/// <summary>
/// Reverts an earlier, finished job of the same kind on this device (the assignment's <see cref="JobAssignment.RevertOf"/>)
/// from that job's own journal folder: a Re-ACL step restores each area it changed (descriptors byte for byte,
/// holders exactly) and reports what it restored per area; every other step that ran is undone through its
/// <see cref="JobStep.UndoAsync"/>, newest first. The old journal names the revert that took it over before anything
/// is restored, and the one that completed once the last restore is done: only then is another revert refused, so
/// a revert that failed or was stopped midway is taken over by the next one asked for (restoring is idempotent).
/// </summary>
public sealed class RevertFinishedJobStep(DeviceFacts enrolledAs) : JobStep
{
    /// <summary>In the reverted job's journal: the id of the latest job that took its revert over.</summary>
    public const string RevertedByKey = "job.revertedBy";

    /// <summary>In the reverted job's journal: the id of the job whose revert of it completed.</summary>
    public const string RevertCompletedByKey = "job.revertCompletedBy";

    public override string Name => "RevertFinishedJob";

    public override async Task RunAsync(JobContext context)
    {
        var id = context.Assignment.RevertOf ?? throw new InvalidOperationException("The assignment reverts no job.");
        var old = JobJournal.Open(Path.GetDirectoryName(context.Journal.Folder)!, id)
            ?? throw new StepFailedException("RevertJournalMissing", $"This device has no journal of job {id}, so it has nothing of that job to revert.");
        if (Refusal(old, context.Assignment.Kind, context.JobId) is { } refusal)
        {
            throw new StepFailedException(refusal.Code, refusal.Message);
        }
        if (old.Record.Assignment.Kind == AgentJobKind.MigrateUserProfile
            && old.Get(MigrateUserProfile.ProfileJournal.Destination) is { } owner && context.Platform.Profiles.Hives.IsLoadedByUser(owner))
        {
            // Its ProfileList entry, folder and hives are in use: taking them away would break the session, and
            // Windows would write the entry back at sign-out.
            throw new StepFailedException("ProfileInUse",
                $"The profile's destination account {owner} is signed in on this device: it must sign out before the hand-over can be reverted.");
        }
        old.Set(RevertedByKey, context.JobId.ToString());
        context.Log.Information($"Reverting job {id} ({old.Record.Assignment.Kind}, started {old.Record.StartedAt:u}).");

        // The old job's steps see their own journal and assignment (its policy, its areas), on this device.
        var from = new JobContext(old, context.Log, context.Platform, context.Session, context.Gateway, context.Time, context.Cancellation)
        {
            Restored = count => context.SetAreaCount(count, final: true),
        };
        var steps = JobPlans.For(old.Record.Assignment.Kind, enrolledAs).Steps;
        for (var i = Math.Min(old.Record.NextStep, steps.Count) - 1; i >= 0; i--)
        {
            context.Step = "Revert " + steps[i].Name;
            if (steps[i] is TranslateDescriptorsStep translate)
            {
                var restored = translate.Revert(from, area =>
                    context.Faults?.AtStepAsync($"{Name}.{area}", afterEffect: false, context.Cancellation).GetAwaiter().GetResult());
                foreach (var (count, errors) in restored)
                {
                    foreach (var error in errors.Take(ProgressReport.MaxItems))
                    {
                        context.Report(new ItemResult($"{count.Area}: {error.Path}", ItemOutcome.Failed, error.Message));
                    }
                    from.ReportRestored(count);
                }
            }
            else if (steps[i].UndoneByRevert)
            {
                await steps[i].UndoAsync(from);
            }
        }
        old.Set(RevertCompletedByKey, context.JobId.ToString());
        var areas = context.AreaCounts;
        // An area not restored as a whole (a hive that stays loaded) counts as a failure: never a clean revert.
        var failed = areas.Sum(a => a.Failed) + areas.Count(a => a.Problem is not null);
        context.SetProgress(areas.Sum(a => a.Seen), areas.Sum(a => a.Seen), areas.Sum(a => a.Changed), failed);
        context.Log.Information($"Job {id} reverted.");
    }

    /// <summary>Why <paramref name="old"/> cannot be reverted by job <paramref name="by"/> of kind <paramref name="kind"/>; null when it can.</summary>
    public static (string Code, string Message)? Refusal(JobJournal old, AgentJobKind kind, Guid by)
    {
        var record = old.Record;
        var job = record.Assignment;
        if (kind is not (AgentJobKind.MigratePermissions or AgentJobKind.MigrateUserProfile))
        {
            return ("RevertNotSupported", $"A {kind} job cannot be reverted on the device; only permissions and profile jobs can.");
        }
        if (job.Kind != kind)
        {
            return ("RevertKindMismatch", $"Job {job.JobId} is a {job.Kind} job, not a {kind} job.");
        }
        if (job.DryRun)
        {
            return ("RevertOfDryRun", $"Job {job.JobId} was a dry run: it changed nothing.");
        }
        if (job.RevertOf is not null)
        {
            return ("RevertOfRevert", $"Job {job.JobId} was itself a revert; run the job again instead.");
        }
        if (record.Phase == JournalPhase.Running)
        {
            return ("RevertOfUnfinishedJob", $"Job {job.JobId} has not finished on this device.");
        }
        if (record.Failure is not null)
        {
            return ("RevertOfRolledBackJob", $"Job {job.JobId} failed and was rolled back on this device: nothing is left to revert.");
        }
        return old.Get(RevertCompletedByKey) is { } reverter && reverter != by.ToString()
            ? ("AlreadyReverted", $"Job {job.JobId} was reverted already (by job {reverter}).")
            : null;
    }
}
