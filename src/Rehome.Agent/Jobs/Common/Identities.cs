using Rehome.Agent.Journal;
using Rehome.Protocol;
using Rehome.Security;
using Rehome.Security.Descriptors;
using Rehome.Security.Reacl;
using Rehome.Security.Sids;
using Rehome.Security.Stores;

namespace Rehome.Agent.Jobs.Common;

/// <summary>Finds the domain identities a device's descriptors name, and gets their destination SIDs from the server.</summary>
public static class Identities
{
    /// <summary>Domain (S-1-5-21-…) and Entra ID (S-1-12-1-…) accounts: the ones a migration can map.</summary>
    public static bool IsMappable(string sid) => sid.StartsWith("S-1-5-21-", StringComparison.Ordinal) || sid.StartsWith("S-1-12-1-", StringComparison.Ordinal);

    /// <summary>Walks the areas and collects the mappable SIDs of owners, groups and ACEs; returns them and the item count.</summary>
    public static (HashSet<string> Sids, long Items) Collect(ISecurityStore store, IReadOnlyList<string> areas, IReadOnlyList<string> ignored, CancellationToken ct)
    {
        var sids = new HashSet<string>(StringComparer.Ordinal);
        long items = 0;
        var pending = new Stack<string>(areas.Reverse());
        while (pending.Count > 0)
        {
            ct.ThrowIfCancellationRequested();
            var path = pending.Pop();
            if (IsUnder(path, ignored))
            {
                continue;
            }
            items++;
            try
            {
                var descriptor = SecurityDescriptor.FromBinary(store.ReadDescriptor(path));
                Add(sids, descriptor.Owner);
                Add(sids, descriptor.Group);
                foreach (var ace in (descriptor.Dacl?.Aces ?? []).Concat(descriptor.Sacl?.Aces ?? []))
                {
                    Add(sids, ace.Sid);
                }
                foreach (var child in store.EnumerateChildren(path))
                {
                    pending.Push(child);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or SecurityFormatException or SecurityStoreException)
            {
                // The translation walk meets the same item and reports it as an item error.
            }
        }
        return (sids, items);
    }

    /// <summary>The areas that exist on this device (a policy lists areas for every kind of device).</summary>
    public static IReadOnlyList<string> Existing(ISecurityStore store, IEnumerable<string> areas, JobLog log) => [.. areas.Where(area =>
    {
        try
        {
            store.ReadDescriptor(area);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or SecurityStoreException)
        {
            log.Information($"Area {area} is not on this device: skipped.");
            return false;
        }
    })];

    /// <summary>Asks the server for the destination SIDs (it holds the directories), keeps the answer in the job's folder, logs the unmapped ones.</summary>
    public static async Task<SidMap> MapAsync(JobContext context, IReadOnlyCollection<string> sids, string file)
    {
        var path = context.Journal.PathOf(file);
        var answer = DurableFile.ReadJson<SidMapAnswer>(path);
        if (answer is null)
        {
            var request = new SidMapRequest(context.Assignment.LeaseToken, [.. sids.Order(StringComparer.Ordinal)]);
            answer = await context.CallServerAsync(ct => context.Gateway.MapSidsAsync(context.JobId, request, ct));
            DurableFile.WriteJson(path, answer);
            foreach (var unmapped in answer.Unmapped)
            {
                context.Log.Warning($"Not mapped: {unmapped.Sid} ({unmapped.Reason}); its entries stay as they are.");
            }
            context.Log.Information($"{answer.Pairs.Count} identities mapped, {answer.Unmapped.Count} not mapped.");
        }
        var map = new SidMap();
        foreach (var pair in answer.Pairs)
        {
            map.Add(SecurityIdentifier.Parse(pair.Source), SecurityIdentifier.Parse(pair.Destination));
        }
        return map;
    }

    public static TranslationMode ModeOf(ReaclMode mode) => mode switch
    {
        ReaclMode.Add => TranslationMode.Add,
        ReaclMode.Remove => TranslationMode.Remove,
        _ => TranslationMode.Replace,
    };

    private static void Add(HashSet<string> sids, SecurityIdentifier? sid)
    {
        if (sid is not null && sid.ToString() is var text && IsMappable(text))
        {
            sids.Add(text);
        }
    }

    private static bool IsUnder(string path, IReadOnlyList<string> areas) => areas.Any(a =>
        string.Equals(path, a, StringComparison.OrdinalIgnoreCase)
        || (path.StartsWith(a, StringComparison.OrdinalIgnoreCase) && (a.EndsWith('\\') || path[a.Length] == '\\')));
}
