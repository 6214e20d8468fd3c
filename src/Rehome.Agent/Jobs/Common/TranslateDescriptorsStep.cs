using Rehome.Protocol;
using Rehome.Security.Reacl;

namespace Rehome.Agent.Jobs.Common;

/// <summary>
/// Re-ACL: rewrites every owner, group and ACE naming a mapped source identity, in the given areas. The walker
/// keeps a checkpoint (a resumed walk goes on where it stopped) and an undo journal with each changed item's
/// original descriptor (the rollback restores every byte). Item errors are reported, not fatal: the job ends
/// "Exceptions".
/// </summary>
public sealed class TranslateDescriptorsStep(Func<JobContext, (IReadOnlyList<string> Areas, IReadOnlyList<string> Ignored)> areasOf, string mapFile) : JobStep
{
    public override string Name => "TranslateDescriptors";

    public override async Task RunAsync(JobContext context)
    {
        var (areas, ignored) = areasOf(context);
        var map = await Identities.MapAsync(context, [], mapFile);
        var total = long.TryParse(context.Journal.Get("items.total"), out var counted) ? counted : 0;
        var store = context.Platform.SecurityStore;
        var walker = new SecurityWalker(store, map,
            new TranslationOptions { Mode = Identities.ModeOf(context.Assignment.Policy.ReaclMode) },
            new WalkOptions
            {
                CheckpointFile = context.Journal.PathOf("reacl.checkpoint"),
                UndoJournalFile = context.Journal.PathOf("reacl.undo"),
                ProgressInterval = 50,
                CheckpointInterval = 200,
                Progress = new InlineProgress(p =>
                {
                    context.SetProgress(p.Seen, Math.Max(total, p.Seen), p.Changed, p.Failed);
                    context.Message = p.CurrentPath;
                }),
                TimeProvider = context.Time,
            });
        var result = await Task.Run(() => walker.Walk(Identities.Existing(store, areas, context.Log), ignored, context.Cancellation), context.Cancellation);
        context.SetProgress(result.Seen, Math.Max(total, result.Seen), result.Changed, result.Failed);
        foreach (var error in result.Errors.Take(ProgressReport.MaxItems * 10))
        {
            context.Report(new ItemResult(error.Path, ItemOutcome.Failed, error.Message));
        }
        context.Log.Information($"Re-ACL: {result.Seen} items seen, {result.Changed} changed, {result.Failed} failed in {result.Elapsed.TotalSeconds:F1} s.");
    }

    /// <summary>Restores every descriptor the walk changed, byte for byte, from the undo journal.</summary>
    public override Task UndoAsync(JobContext context)
    {
        var journal = context.Journal.PathOf("reacl.undo");
        if (File.Exists(journal))
        {
            var reverted = UndoJournal.Revert(context.Platform.SecurityStore, journal);
            context.Log.Information($"Re-ACL rolled back: {reverted.Restored} descriptors restored, {reverted.Errors.Count} could not be.");
        }
        return Task.CompletedTask;
    }

    /// <summary>Progress reported on the walker's thread (Progress&lt;T&gt; would post to a context that may not exist).</summary>
    private sealed class InlineProgress(Action<WalkProgress> report) : IProgress<WalkProgress>
    {
        public void Report(WalkProgress value) => report(value);
    }
}

/// <summary>Collects the identities the areas' descriptors name and has the server map them.</summary>
public sealed class MapIdentitiesStep(Func<JobContext, (IReadOnlyList<string> Areas, IReadOnlyList<string> Ignored)> areasOf, string mapFile,
    Func<JobContext, IEnumerable<string>>? alsoMap = null) : JobStep
{
    public override string Name => "MapIdentities";

    public override Task<bool> IsAlreadyDoneAsync(JobContext context) => Task.FromResult(File.Exists(context.Journal.PathOf(mapFile)));

    public override async Task RunAsync(JobContext context)
    {
        var (areas, ignored) = areasOf(context);
        var store = context.Platform.SecurityStore;
        var (sids, items) = await Task.Run(() => Identities.Collect(store, Identities.Existing(store, areas, context.Log), ignored, context.Cancellation));
        foreach (var sid in alsoMap?.Invoke(context) ?? [])
        {
            sids.Add(sid);
        }
        context.Journal.Set("items.total", items.ToString(System.Globalization.CultureInfo.InvariantCulture));
        context.SetProgress(0, items, 0, 0);
        context.Log.Information($"{items} items hold {sids.Count} domain identities.");
        await Identities.MapAsync(context, sids, mapFile);
    }
}
