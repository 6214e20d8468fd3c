using Rehome.Protocol;
using Rehome.Security.Reacl;
using Rehome.Security.Stores;

namespace Rehome.Agent.Jobs.Common;

/// <summary>The Re-ACL walker and its counts as every job runs them (the permissions job's areas, the profile job's folder and hives).</summary>
public static class ReaclWalkers
{
    /// <summary>
    /// A descriptor walker with the policy's mode and the job's files. A dry run keeps no position and no undo
    /// journal: a restart walks again from the start, and nothing is changed that would need undoing.
    /// </summary>
    public static SecurityWalker Descriptors(JobContext context, ISecurityStore store, SidMap map, string checkpointFile, string undoFile,
        IProgress<WalkProgress>? progress = null)
    {
        var dryRun = context.Assignment.DryRun;
        return new SecurityWalker(store, map, new TranslationOptions { Mode = Identities.ModeOf(context.Assignment.Policy.ReaclMode) }, new WalkOptions
        {
            DryRun = dryRun,
            CheckpointFile = dryRun ? null : context.Journal.PathOf(checkpointFile),
            UndoJournalFile = dryRun ? null : context.Journal.PathOf(undoFile),
            ProgressInterval = 50,
            CheckpointInterval = 200,
            Progress = progress,
            TimeProvider = context.Time,
        });
    }

    /// <summary>An area's counts as reported (the protocol's counts are 32-bit; a walk's are not).</summary>
    public static AreaCount Count(ReaclArea area, long seen, long changed, long failed, string? problem = null) =>
        new(area, Clamp(seen), Clamp(changed), Clamp(failed), problem);

    private static int Clamp(long value) => (int)Math.Min(value, int.MaxValue);
}
