using Rehome.Agent.Platform;
using Rehome.Protocol;
using Rehome.Security.Reacl;

namespace Rehome.Agent.Jobs.Common;

/// <summary>
/// Re-ACL, area by area in the scope's order: rewrites every owner, group and ACE naming a mapped source identity,
/// and carries every mapped holder (group member, right holder, run-as account) over. Each area has its own
/// checkpoint and undo journals, and its count is journaled when it is done, so a restart goes on with the area it
/// was in and never walks a finished one again. Item errors are counted, not fatal; an area the device cannot do,
/// or that fails as a whole, is reported with its problem (the job ends "Exceptions"). In a dry run nothing is
/// written and the counts say what would change.
/// </summary>
public sealed class TranslateDescriptorsStep(ReaclScope scope, string mapFile) : JobStep
{
    public TranslateDescriptorsStep(Func<JobContext, (IReadOnlyList<string> Areas, IReadOnlyList<string> Ignored)> pathsOf, string mapFile)
        : this(ReaclScope.Paths(pathsOf), mapFile)
    {
    }

    public override string Name => "TranslateDescriptors";

    public override async Task RunAsync(JobContext context)
    {
        var map = await Identities.MapAsync(context, [], mapFile);
        var total = long.TryParse(context.Journal.Get(MapIdentitiesStep.TotalKey), out var counted) ? counted : 0;
        foreach (var area in scope.Of(context))
        {
            if (context.FinalAreaCount(area) is not null)
            {
                continue;
            }
            var done = Sum(context);
            var count = await WalkAsync(context, area, map, new Progress(context, area, done, total));
            context.SetAreaCount(count, final: true);
            var verb = context.Assignment.DryRun ? "would change" : "changed";
            context.Log.Information(count.Problem is null
                ? $"Re-ACL of {area}: {count.Seen} items seen, {count.Changed} {verb}, {count.Failed} failed."
                : $"Re-ACL of {area} not done: {count.Problem}");
        }
        var sum = Sum(context);
        context.SetProgress(sum.Seen, Math.Max(total, sum.Seen), sum.Changed, sum.Failed);
    }

    /// <summary>Restores every area the walk changed, from its undo journals (the job's rollback).</summary>
    public override Task UndoAsync(JobContext context)
    {
        foreach (var reverted in Revert(context))
        {
            var count = reverted.Count;
            context.Log.Information(count.Problem is null
                ? $"{count.Area} rolled back: {count.Changed} items restored, {count.Failed} could not be."
                : $"{count.Area} could not be rolled back: {count.Problem}");
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Restores, area by area (newest first), what <paramref name="from"/>'s job changed: descriptors byte for byte,
    /// holders exactly, each through the area opened again as that job opened it. Counts: items journaled, restored,
    /// not restored. Restoring twice writes the same originals again. <paramref name="beforeArea"/> runs before each
    /// area is restored (a simulated device's faults); what it throws ends the revert.
    /// </summary>
    public IReadOnlyList<AreaRevert> Revert(JobContext from, Action<ReaclArea>? beforeArea = null)
    {
        var reverts = new List<AreaRevert>();
        foreach (var area in Enum.GetValues<ReaclArea>().Reverse())
        {
            var descriptors = from.Journal.PathOf(ReaclScope.UndoFile(area));
            var holders = from.Journal.PathOf(ReaclScope.HoldersUndoFile(area));
            if (!File.Exists(descriptors) && !File.Exists(holders))
            {
                continue;
            }
            beforeArea?.Invoke(area);
            try
            {
                var opened = scope.Open(from, area);
                var restored = 0;
                var errors = new List<WalkError>();
                string? closing;
                try
                {
                    if (File.Exists(descriptors) && opened.Store is { } store)
                    {
                        var result = UndoJournal.Revert(store, descriptors);
                        restored += result.Restored;
                        errors.AddRange(result.Errors);
                    }
                    if (File.Exists(holders) && opened.Holders is { } holderStore)
                    {
                        var result = HolderWalker.Revert(holderStore, holders);
                        restored += result.Restored;
                        errors.AddRange(result.Errors);
                    }
                }
                finally
                {
                    closing = Close(opened);
                }
                reverts.Add(new AreaRevert(new AreaCount(area, restored + errors.Count, restored, errors.Count, closing), errors));
            }
            catch (Exception e) when (e is not OperationCanceledException and not AgentTerminatedException)
            {
                reverts.Add(new AreaRevert(new AreaCount(area, 0, 0, 0, e is AreaNotSupportedException ? e.Message : "The area could not be opened: " + e.Message), []));
            }
        }
        return reverts;
    }

    private async Task<AreaCount> WalkAsync(JobContext context, ReaclArea area, SidMap map, Progress progress)
    {
        var dryRun = context.Assignment.DryRun;
        var mode = Identities.ModeOf(context.Assignment.Policy.ReaclMode);
        try
        {
            await AtFault(context, area, afterEffect: false);
            var opened = scope.Open(context, area);
            var descriptors = new WalkResult();
            var holders = new WalkResult();
            string? closing;
            try
            {
                if (opened.Store is { } store)
                {
                    var walker = ReaclWalkers.Descriptors(context, store, map, ReaclScope.CheckpointFile(area), ReaclScope.UndoFile(area), progress);
                    var roots = Identities.Existing(store, opened.Roots, context.Log);
                    descriptors = await Task.Run(() => walker.Walk(roots, opened.Ignored, context.Cancellation), context.Cancellation);
                }
                if (opened.Holders is { } holderStore)
                {
                    var walker = new HolderWalker(holderStore, map, mode, new HolderWalkOptions
                    {
                        DryRun = dryRun,
                        UndoJournalFile = dryRun ? null : context.Journal.PathOf(ReaclScope.HoldersUndoFile(area)),
                        Progress = progress.After(descriptors),
                    });
                    holders = await Task.Run(() => walker.Walk(context.Cancellation), context.Cancellation);
                }
            }
            finally
            {
                closing = Close(opened);
            }
            foreach (var error in descriptors.Errors.Concat(holders.Errors).Take(ProgressReport.MaxItems * 10))
            {
                context.Report(new ItemResult($"{area}: {error.Path}", ItemOutcome.Failed, error.Message));
            }
            foreach (var left in holders.Skipped.Take(ProgressReport.MaxItems))
            {
                context.Report(new ItemResult($"{area}: {left.Path}", ItemOutcome.Skipped, left.Message));
            }
            await AtFault(context, area, afterEffect: true);
            return ReaclWalkers.Count(area, descriptors.Seen + holders.Seen, descriptors.Changed + holders.Changed, descriptors.Failed + holders.Failed, closing);
        }
        catch (AreaNotSupportedException e)
        {
            return new AreaCount(area, 0, 0, 0, e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException and not AgentTerminatedException)
        {
            context.Log.Error($"{area} failed as a whole: {e.Message}");
            return (context.AreaCounts.FirstOrDefault(a => a.Area == area) ?? new AreaCount(area, 0, 0, 0)) with { Problem = $"The area failed as a whole: {e.Message}" };
        }
    }

    /// <summary>
    /// Closes an area after its walk or restore; a close that fails (a user hive that stays loaded) is the area's
    /// problem, reported with its counts, which stay true: the items were done.
    /// </summary>
    private static string? Close(OpenedArea opened)
    {
        try
        {
            opened.Dispose();
            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException and not AgentTerminatedException)
        {
            return "Done, but the area could not be closed: " + e.Message;
        }
    }

    /// <summary>A simulated device's faults at an area's start and end (the step's name, a dot, the area; ".Midway" at its first progress).</summary>
    private Task AtFault(JobContext context, ReaclArea area, bool afterEffect) =>
        context.Faults?.AtStepAsync($"{Name}.{area}", afterEffect, context.Cancellation) ?? Task.CompletedTask;

    private static (long Seen, long Changed, long Failed) Sum(JobContext context)
    {
        var areas = context.AreaCounts;
        return (areas.Sum(a => (long)a.Seen), areas.Sum(a => (long)a.Changed), areas.Sum(a => (long)a.Failed));
    }

    /// <summary>
    /// An area's progress, reported on the walker's thread (Progress&lt;T&gt; would post to a context that may not
    /// exist): the area's count so far, and the job's items with the finished areas' counts added.
    /// </summary>
    private sealed class Progress(JobContext context, ReaclArea area, (long Seen, long Changed, long Failed) done, long total,
        WalkResult? before = null) : IProgress<WalkProgress>
    {
        private bool midway;

        public Progress After(WalkResult descriptors) => new(context, area, done, total, descriptors);

        public void Report(WalkProgress value)
        {
            if (!midway && context.Faults is { } faults)
            {
                // A simulated device's crash in the middle of the area's walk (the walker's thread waits for it).
                midway = true;
                faults.AtStepAsync($"TranslateDescriptors.{area}.Midway", afterEffect: false, context.Cancellation).GetAwaiter().GetResult();
            }
            var seen = value.Seen + (before?.Seen ?? 0);
            var changed = value.Changed + (before?.Changed ?? 0);
            var failed = value.Failed + (before?.Failed ?? 0);
            context.SetAreaCount(ReaclWalkers.Count(area, seen, changed, failed), final: false);
            context.SetProgress(done.Seen + seen, Math.Max(total, done.Seen + seen), done.Changed + changed, done.Failed + failed);
            if (value.CurrentPath.Length > 0)
            {
                context.Message = $"{area}: {value.CurrentPath}";
            }
        }
    }
}
