using Rehome.Security.Sids;
using Rehome.Security.Stores;

namespace Rehome.Security.Reacl;

/// <summary>How a holder walk runs.</summary>
public sealed record HolderWalkOptions
{
    /// <summary>Report what would change, change nothing.</summary>
    public bool DryRun { get; init; }

    /// <summary>Where each changed item's original holders are journaled before the change; required unless <see cref="DryRun"/>.</summary>
    public string? UndoJournalFile { get; init; }

    public IProgress<WalkProgress>? Progress { get; init; }
}

/// <summary>
/// Walks the items of an <see cref="IHolderStore"/> (group members, right holders, run-as accounts) and carries each
/// mapped source holder over: Replace puts the destination in its place, Add keeps the source and adds the
/// destination, Remove strips the source. Each item's original holders are journaled durably before it is written,
/// so a revert writes them back exactly; the walk keeps no position of its own, since an item already changed is
/// found in its target state (and counted through the journal): re-running it after a crash is harmless.
/// </summary>
public sealed class HolderWalker
{
    private readonly IHolderStore store;
    private readonly SidMap map;
    private readonly TranslationMode mode;
    private readonly HolderWalkOptions options;

    public HolderWalker(IHolderStore store, SidMap map, TranslationMode mode, HolderWalkOptions options)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(options);
        if (!options.DryRun && options.UndoJournalFile is null)
        {
            throw new ArgumentException("A walk that changes holders needs an undo journal file.", nameof(options));
        }

        this.store = store;
        this.map = map;
        this.mode = mode;
        this.options = options;
    }

    /// <summary>
    /// Carries every item's holders over. An item that cannot be read or written (a <see cref="SecurityStoreException"/>)
    /// and an item that cannot take the change (a single holder asked to hold two, or to hold none) count as failed,
    /// unchanged; listing the items failing fails the walk.
    /// </summary>
    public WalkResult Walk(CancellationToken cancellationToken = default)
    {
        var journaled = new HashSet<string>(StringComparer.Ordinal);
        UndoJournal? journal = null;
        if (!options.DryRun)
        {
            foreach (var (item, _) in UndoJournal.ReadAll(options.UndoJournalFile!))
            {
                journaled.Add(item);
            }

            journal = UndoJournal.Open(options.UndoJournalFile!);
        }

        using (journal)
        {
            long seen = 0, changed = 0, failed = 0;
            var errors = new List<WalkError>();
            var skipped = new List<WalkError>();
            var wouldChange = new List<string>();
            foreach (var item in store.EnumerateItems().ToList())
            {
                cancellationToken.ThrowIfCancellationRequested();
                seen++;
                try
                {
                    var holders = store.ReadHolders(item);
                    var target = Target(holders);
                    if (target.SequenceEqual(holders))
                    {
                        // Unchanged now; changed by this walk before a restart when the journal has it.
                        changed += journaled.Contains(item) ? 1 : 0;
                    }
                    else if (Refusal(item, holders, target) is { } refusal)
                    {
                        skipped.Add(new WalkError(item, refusal));
                    }
                    else if (options.DryRun)
                    {
                        wouldChange.Add(item);
                        changed++;
                    }
                    else
                    {
                        if (journaled.Add(item))
                        {
                            journal!.Record(item, Encode(holders));
                            journal.Flush();
                        }

                        store.WriteHolders(item, target);
                        changed++;
                    }
                }
                catch (SecurityStoreException exception)
                {
                    failed++;
                    errors.Add(new WalkError(item, exception.Message));
                }

                options.Progress?.Report(new WalkProgress(seen, changed, failed, 0, item));
            }

            return new WalkResult { Seen = seen, Changed = changed, Failed = failed, Errors = errors, Skipped = skipped, WouldChange = wouldChange };
        }
    }

    /// <summary>
    /// Writes every journaled item's original holders back (newest change first); returns how many items were
    /// restored and the items that could not be. Running it twice restores the same holders again.
    /// </summary>
    public static RevertResult Revert(IHolderStore store, string journalFile)
    {
        ArgumentNullException.ThrowIfNull(store);
        var originals = new Dictionary<string, IReadOnlyList<SecurityIdentifier>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var (item, holders) in UndoJournal.ReadAll(journalFile))
        {
            if (originals.TryAdd(item, Decode(holders)))
            {
                order.Add(item);
            }
        }

        var restored = 0;
        var errors = new List<WalkError>();
        for (var index = order.Count - 1; index >= 0; index--)
        {
            try
            {
                store.WriteHolders(order[index], originals[order[index]]);
                restored++;
            }
            catch (SecurityStoreException exception)
            {
                errors.Add(new WalkError(order[index], exception.Message));
            }
        }

        return new RevertResult(restored, errors);
    }

    /// <summary>The holders the item should have: the current ones in their order, each mapped one handled by the mode, none twice.</summary>
    private List<SecurityIdentifier> Target(IReadOnlyList<SecurityIdentifier> holders)
    {
        var target = new List<SecurityIdentifier>(holders.Count + 1);
        foreach (var holder in holders)
        {
            if (!map.TryGetDestination(holder, out var destination))
            {
                AddOnce(target, holder);
                continue;
            }

            switch (mode)
            {
                case TranslationMode.Replace:
                    AddOnce(target, destination);
                    break;
                case TranslationMode.Add:
                    AddOnce(target, holder);
                    AddOnce(target, destination);
                    break;
                case TranslationMode.Remove:
                    break;
            }
        }

        return target;
    }

    /// <summary>Why the item cannot take <paramref name="target"/>; null when it can.</summary>
    private string? Refusal(string item, IReadOnlyList<SecurityIdentifier> holders, List<SecurityIdentifier> target)
    {
        var max = store.MaxHolders(item);
        if (target.Count > max)
        {
            return $"{item} holds {max} account(s) at most: adding the destination next to {string.Join(", ", holders)} would need {target.Count}; left unchanged.";
        }

        return target.Count == 0 && holders.Count > 0 && max == 1
            ? $"{item} needs an account: removing {holders[0]} would leave it none; left unchanged."
            : null;
    }

    private static void AddOnce(List<SecurityIdentifier> holders, SecurityIdentifier sid)
    {
        if (!holders.Contains(sid))
        {
            holders.Add(sid);
        }
    }

    // The journal's record for an item is its holders' binary SIDs back to back (each SID gives its own length).
    private static byte[] Encode(IReadOnlyList<SecurityIdentifier> holders)
    {
        var data = new byte[holders.Sum(h => h.BinaryLength)];
        var position = 0;
        foreach (var holder in holders)
        {
            holder.Binary.CopyTo(data.AsSpan(position));
            position += holder.BinaryLength;
        }

        return data;
    }

    private static List<SecurityIdentifier> Decode(byte[] data)
    {
        var holders = new List<SecurityIdentifier>();
        for (var position = 0; position < data.Length;)
        {
            var length = SecurityIdentifier.MeasureBinary(data.AsSpan(position), position);
            holders.Add(SecurityIdentifier.FromBinary(data.AsSpan(position, length)));
            position += length;
        }

        return holders;
    }
}
