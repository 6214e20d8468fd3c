using Rehome.Security.Reacl;
using Rehome.Security.Sids;
using Rehome.Security.Stores;
using Rehome.Security.Tests.Support;

namespace Rehome.Security.Tests.Reacl;

public sealed class HolderWalkerTests : IDisposable
{
    private static readonly SecurityIdentifier Source = DescriptorGenerator.SourceDomain.WithRid(1105);
    private static readonly SecurityIdentifier Destination = DescriptorGenerator.DestinationDomain.WithRid(2205);
    private static readonly SecurityIdentifier Administrators = SecurityIdentifier.Parse("S-1-5-32-544");
    private static readonly SidMap Map = new([new(Source, Destination)]);
    private readonly string folder = Directory.CreateTempSubdirectory("rehome-holders-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string Journal => Path.Combine(folder, "holders.undo");

    private static MemoryHolderStore Store() => new()
    {
        ["Remote Desktop Users"] = [Source],
        ["Administrators"] = [Administrators, Source],
        ["Users"] = [SecurityIdentifier.Parse("S-1-5-11")],
        ["service:Backup"] = [Source],
    };

    private HolderWalker Walker(IHolderStore store, TranslationMode mode, bool dryRun = false) =>
        new(store, Map, mode, new HolderWalkOptions { DryRun = dryRun, UndoJournalFile = dryRun ? null : Journal });

    [Fact]
    public void Replace_puts_the_destination_where_each_mapped_source_holder_was()
    {
        var store = Store();

        var result = Walker(store, TranslationMode.Replace).Walk();

        Assert.Equal((4, 3, 0), (result.Seen, result.Changed, result.Failed));
        Assert.Equal([Destination], store["Remote Desktop Users"]);
        Assert.Equal([Administrators, Destination], store["Administrators"]);
        Assert.Equal([Destination], store["service:Backup"]);
        Assert.Equal(0, store.Writes["Users"]);
    }

    [Fact]
    public void Replace_does_not_add_a_destination_that_already_holds_the_item()
    {
        var store = Store();
        store["Administrators"] = [Administrators, Source, Destination];

        Walker(store, TranslationMode.Replace).Walk();

        Assert.Equal([Administrators, Destination], store["Administrators"]);
    }

    [Fact]
    public void Add_keeps_the_source_and_adds_the_destination_once()
    {
        var store = Store();
        store["Remote Desktop Users"] = [Source, Destination];

        var result = Walker(store, TranslationMode.Add).Walk();

        Assert.Equal([Source, Destination], store["Remote Desktop Users"]);
        Assert.Equal(0, store.Writes["Remote Desktop Users"]);
        Assert.Equal([Administrators, Source, Destination], store["Administrators"]);
        Assert.Equal(1, result.Changed);
    }

    [Fact]
    public void Add_reports_an_item_that_holds_one_account_as_skipped_and_leaves_it_unchanged()
    {
        var store = Store();

        var result = Walker(store, TranslationMode.Add).Walk();

        // Coexistence: the source account still works, so the item is left on it and said so, not failed.
        Assert.Equal(0, result.Failed);
        var error = Assert.Single(result.Skipped);
        Assert.Equal("service:Backup", error.Path);
        Assert.Contains("at most", error.Message, StringComparison.Ordinal);
        Assert.Equal([Source], store["service:Backup"]);
        Assert.Equal(0, store.Writes["service:Backup"]);
    }

    [Fact]
    public void Remove_strips_the_mapped_source_holders_but_never_leaves_a_single_holder_item_without_one()
    {
        var store = Store();

        var result = Walker(store, TranslationMode.Remove).Walk();

        Assert.Empty(store["Remote Desktop Users"]);
        Assert.Equal([Administrators], store["Administrators"]);
        Assert.Equal([Source], store["service:Backup"]);
        Assert.Equal((2, 0), (result.Changed, result.Failed));
        Assert.Equal("service:Backup", Assert.Single(result.Skipped).Path);
    }

    [Fact]
    public void A_dry_run_counts_what_would_change_and_writes_nothing()
    {
        var store = Store();

        var result = Walker(store, TranslationMode.Replace, dryRun: true).Walk();

        Assert.Equal(3, result.Changed);
        Assert.Equal(["Administrators", "Remote Desktop Users", "service:Backup"], result.WouldChange.Order(StringComparer.Ordinal));
        Assert.All(store.Writes.Values, writes => Assert.Equal(0, writes));
        Assert.False(File.Exists(Journal));
    }

    [Fact]
    public void An_item_the_store_cannot_read_or_write_counts_as_failed_and_the_walk_goes_on()
    {
        var store = Store();
        store.Failing.Add("Administrators");

        var result = Walker(store, TranslationMode.Replace).Walk();

        Assert.Equal((4, 2, 1), (result.Seen, result.Changed, result.Failed));
        Assert.Equal("Administrators", Assert.Single(result.Errors).Path);
        Assert.Equal([Destination], store["Remote Desktop Users"]);
    }

    [Fact]
    public void Revert_writes_every_original_holder_list_back_exactly()
    {
        var store = Store();
        var before = store.Snapshot();
        Walker(store, TranslationMode.Replace).Walk();

        var reverted = HolderWalker.Revert(store, Journal);

        Assert.Equal(3, reverted.Restored);
        Assert.Empty(reverted.Errors);
        Assert.Equal(before, store.Snapshot());
    }

    [Fact]
    public void A_walk_run_again_after_a_crash_changes_nothing_more_counts_the_same_and_still_reverts_to_the_originals()
    {
        var store = Store();
        var before = store.Snapshot();
        // The first walk crashed after journaling and writing two items.
        store.CrashAfterWrites = 2;
        Assert.Throws<InvalidOperationException>(() => Walker(store, TranslationMode.Replace).Walk());
        store.CrashAfterWrites = null;

        var result = Walker(store, TranslationMode.Replace).Walk();

        Assert.Equal((4, 3, 0), (result.Seen, result.Changed, result.Failed));
        Assert.Equal(3, store.Writes.Values.Sum());
        HolderWalker.Revert(store, Journal);
        Assert.Equal(before, store.Snapshot());
    }

    [Fact]
    public void The_original_holders_are_journaled_before_the_item_is_written()
    {
        var store = Store();
        store.BeforeWrite = item => Assert.Contains(UndoJournal.ReadAll(Journal), record => record.Path == item);

        var result = Walker(store, TranslationMode.Replace).Walk();

        Assert.Equal(3, result.Changed);
    }

    /// <summary>Holders in memory; an item named "service:…" holds one account, as a service's run-as account does.</summary>
    private sealed class MemoryHolderStore : IHolderStore, IEnumerable<KeyValuePair<string, List<SecurityIdentifier>>>
    {
        private readonly SortedDictionary<string, List<SecurityIdentifier>> items = new(StringComparer.Ordinal);

        public Dictionary<string, int> Writes { get; } = [];

        public HashSet<string> Failing { get; } = [];

        public int? CrashAfterWrites { get; set; }

        public Action<string>? BeforeWrite { get; set; }

        public List<SecurityIdentifier> this[string item]
        {
            get => items[item];
            set
            {
                items[item] = value;
                Writes[item] = 0;
            }
        }

        public IEnumerable<string> EnumerateItems() => items.Keys;

        public IReadOnlyList<SecurityIdentifier> ReadHolders(string item) => Failing.Contains(item)
            ? throw new SecurityStoreException(SecurityStoreErrorKind.AccessDenied, item, $"{item}: access denied.")
            : [.. items[item]];

        public int MaxHolders(string item) => item.StartsWith("service:", StringComparison.Ordinal) ? 1 : int.MaxValue;

        public void WriteHolders(string item, IReadOnlyList<SecurityIdentifier> holders)
        {
            BeforeWrite?.Invoke(item);
            items[item] = [.. holders];
            Writes[item]++;
            if (CrashAfterWrites is { } crash && Writes.Values.Sum() >= crash)
            {
                throw new InvalidOperationException("Simulated crash.");
            }
        }

        public Dictionary<string, string> Snapshot() => items.ToDictionary(i => i.Key, i => string.Join(",", i.Value), StringComparer.Ordinal);

        public IEnumerator<KeyValuePair<string, List<SecurityIdentifier>>> GetEnumerator() => items.GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
