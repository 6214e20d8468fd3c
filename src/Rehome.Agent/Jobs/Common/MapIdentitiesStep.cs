using Rehome.Agent.Platform;

namespace Rehome.Agent.Jobs.Common;

/// <summary>Collects the identities the scope's areas name (descriptors and holders) and has the server map them, in one call.</summary>
public sealed class MapIdentitiesStep(ReaclScope scope, string mapFile, Func<JobContext, IEnumerable<string>>? alsoMap = null) : JobStep
{
    internal const string TotalKey = "items.total";

    public MapIdentitiesStep(Func<JobContext, (IReadOnlyList<string> Areas, IReadOnlyList<string> Ignored)> pathsOf, string mapFile,
        Func<JobContext, IEnumerable<string>>? alsoMap = null)
        : this(ReaclScope.Paths(pathsOf), mapFile, alsoMap)
    {
    }

    public override string Name => "MapIdentities";

    public override Task<bool> IsAlreadyDoneAsync(JobContext context) => Task.FromResult(File.Exists(context.Journal.PathOf(mapFile)));

    public override async Task RunAsync(JobContext context)
    {
        var sids = new HashSet<string>(StringComparer.Ordinal);
        long items = 0;
        foreach (var area in scope.Of(context))
        {
            try
            {
                using var opened = scope.Open(context, area);
                var (found, count) = await Task.Run(() => Collect(context, opened), context.Cancellation);
                sids.UnionWith(found);
                items += count;
            }
            catch (Exception e) when (e is not OperationCanceledException and not AgentTerminatedException)
            {
                // The translation reports the area with its problem; its identities cannot be collected here either.
                context.Log.Warning($"{area}: identities not collected: {e.Message}");
            }
        }
        foreach (var sid in alsoMap?.Invoke(context) ?? [])
        {
            sids.Add(sid);
        }
        context.Journal.Set(TotalKey, items.ToString(System.Globalization.CultureInfo.InvariantCulture));
        context.SetProgress(0, items, 0, 0);
        context.Log.Information($"{items} items hold {sids.Count} domain identities.");
        await Identities.MapAsync(context, sids, mapFile);
    }

    private static (HashSet<string> Sids, long Items) Collect(JobContext context, OpenedArea opened)
    {
        var sids = new HashSet<string>(StringComparer.Ordinal);
        long items = 0;
        if (opened.Store is { } store)
        {
            var (found, count) = Identities.Collect(store, Identities.Existing(store, opened.Roots, context.Log), opened.Ignored, context.Cancellation);
            sids.UnionWith(found);
            items += count;
        }
        if (opened.Holders is { } holders)
        {
            var (found, count) = Identities.CollectHolders(holders, context.Cancellation);
            sids.UnionWith(found);
            items += count;
        }
        return (sids, items);
    }
}
