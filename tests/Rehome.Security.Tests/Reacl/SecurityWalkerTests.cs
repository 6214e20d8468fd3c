using Rehome.Security.Descriptors;
using Rehome.Security.Reacl;
using Rehome.Security.Sddl;
using Rehome.Security.Sids;
using Rehome.Security.Stores;
using Rehome.Security.Tests.Support;

namespace Rehome.Security.Tests.Reacl;

public sealed class SecurityWalkerTests : IDisposable
{
    private static readonly SecurityIdentifier Source = DescriptorGenerator.SourceDomain;
    private static readonly SecurityIdentifier Destination = DescriptorGenerator.DestinationDomain;
    private static readonly SidMap Map = new([new(Source.WithRid(1105), Destination.WithRid(2205))]);
    private readonly string folder = Directory.CreateTempSubdirectory("rehome-walker-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string Journal => Path.Combine(folder, "undo.journal");

    private string Checkpoint => Path.Combine(folder, "walk.checkpoint");

    private static InMemorySecurityStore Tree(int folders, int filesPerFolder)
    {
        var store = new InMemorySecurityStore();
        var granted = SddlParser.Parse($"O:BAG:SYD:(A;OICI;FA;;;{Source.WithRid(1105)})(A;;FA;;;BA)").ToBinary();
        var untouched = SddlParser.Parse("O:BAG:SYD:(A;;FA;;;BA)").ToBinary();
        store.Set("/c", untouched);
        for (var folderIndex = 0; folderIndex < folders; folderIndex++)
        {
            var folderPath = $"/c/folder{folderIndex:D3}";
            store.Set(folderPath, granted);
            for (var fileIndex = 0; fileIndex < filesPerFolder; fileIndex++)
            {
                store.Set($"{folderPath}/file{fileIndex:D3}", fileIndex % 2 == 0 ? granted : untouched);
            }
        }

        return store;
    }

    private static Dictionary<string, byte[]> Snapshot(InMemorySecurityStore store) =>
        store.Paths.ToDictionary(path => path, store.ReadDescriptor, StringComparer.Ordinal);

    [Fact]
    public void A_walk_translates_every_item_that_names_a_source_sid()
    {
        var store = Tree(folders: 5, filesPerFolder: 10);

        var result = new SecurityWalker(store, Map, new TranslationOptions(), new WalkOptions { UndoJournalFile = Journal }).Walk(["/c"], []);

        Assert.Equal(56, result.Seen);
        Assert.Equal(30, result.Changed);
        Assert.Equal(0, result.Failed);
        Assert.All(store.Paths, path => Assert.DoesNotContain(Source.WithRid(1105).ToString(), SddlWriter.Write(SecurityDescriptor.FromBinary(store.ReadDescriptor(path))), StringComparison.Ordinal));
    }

    [Fact]
    public void A_dry_run_reports_what_would_change_and_changes_nothing()
    {
        var store = Tree(folders: 2, filesPerFolder: 2);

        var result = new SecurityWalker(store, Map, new TranslationOptions(), new WalkOptions { DryRun = true }).Walk(["/c"], []);

        Assert.Equal(["/c/folder000", "/c/folder000/file000", "/c/folder001", "/c/folder001/file000"], result.WouldChange);
        Assert.Equal(0, store.WriteCount);
    }

    [Fact]
    public void Areas_to_ignore_are_skipped_with_their_subtrees()
    {
        var store = Tree(folders: 3, filesPerFolder: 2);

        var result = new SecurityWalker(store, Map, new TranslationOptions(), new WalkOptions { DryRun = true }).Walk(["/c"], ["/c/folder001"]);

        Assert.Equal(7, result.Seen);
        Assert.DoesNotContain(result.WouldChange, path => path.StartsWith("/c/folder001", StringComparison.Ordinal));
    }

    [Fact]
    public void Item_errors_are_collected_and_the_walk_goes_on()
    {
        var store = Tree(folders: 2, filesPerFolder: 4);
        store.FailOn("/c/folder000/file002");
        store.Set("/c/folder001/file003", [1, 0, 4, 0x80, 99, 0, 0, 0]);

        var result = new SecurityWalker(store, Map, new TranslationOptions(), new WalkOptions { UndoJournalFile = Journal }).Walk(["/c"], []);

        Assert.Equal(2, result.Failed);
        Assert.True(result.HasExceptions);
        Assert.Equal(["/c/folder000/file002", "/c/folder001/file003"], result.Errors.Select(error => error.Path));
        Assert.Equal(11, result.Seen);
        Assert.Equal(5, result.Changed);
    }

    [Fact]
    public void Each_item_error_carries_its_kind_and_a_vanished_folder_does_not_stop_the_walk()
    {
        var store = Tree(folders: 3, filesPerFolder: 2);
        store.FailOn("/c/folder000/file000", SecurityStoreErrorKind.InUse);
        store.FailOn("/c/folder000/file001", SecurityStoreErrorKind.AccessDenied);
        var vanishing = new VanishingStore(store, "/c/folder001");

        var result = new SecurityWalker(vanishing, Map, new TranslationOptions(), new WalkOptions { UndoJournalFile = Journal }).Walk(["/c"], []);

        Assert.Equal(
            [
                ("/c/folder000/file000", SecurityStoreErrorKind.InUse),
                ("/c/folder000/file001", SecurityStoreErrorKind.AccessDenied),
                ("/c/folder001", SecurityStoreErrorKind.NotFound),
            ],
            result.Errors.Select(error => (error.Path, error.Kind)));
        Assert.Equal(3, result.Changed); // folder000, folder002 and its file000
    }

    [Fact]
    public void An_exception_that_is_not_a_store_error_is_a_defect_and_ends_the_walk()
    {
        var store = Tree(folders: 1, filesPerFolder: 1);

        Assert.Throws<InvalidOperationException>(() => new SecurityWalker(new DefectiveStore(store), Map, new TranslationOptions(), new WalkOptions { UndoJournalFile = Journal }).Walk(["/c"], []));
    }

    [Fact]
    public void A_revert_records_the_kind_of_each_item_it_cannot_restore()
    {
        var store = Tree(folders: 1, filesPerFolder: 2);
        new SecurityWalker(store, Map, new TranslationOptions(), new WalkOptions { UndoJournalFile = Journal }).Walk(["/c"], []);
        store.FailOn("/c/folder000", SecurityStoreErrorKind.InUse);
        store.Remove("/c/folder000/file000");

        var revert = UndoJournal.Revert(store, Journal);

        Assert.Equal(
            [("/c/folder000/file000", SecurityStoreErrorKind.NotFound), ("/c/folder000", SecurityStoreErrorKind.InUse)],
            revert.Errors.Select(error => (error.Path, error.Kind)));
    }

    [Fact]
    public void Progress_reports_counts_and_a_final_report()
    {
        var store = Tree(folders: 4, filesPerFolder: 5);
        var reports = new List<WalkProgress>();

        new SecurityWalker(store, Map, new TranslationOptions(), new WalkOptions { UndoJournalFile = Journal, ProgressInterval = 10, Progress = new SynchronousProgress(reports) })
            .Walk(["/c"], []);

        Assert.Equal([10L, 20L, 25L], reports.Select(report => report.Seen));
        Assert.Equal(16, reports[^1].Changed);
    }

    [Fact]
    public void Revert_restores_every_descriptor_byte_for_byte()
    {
        var store = Tree(folders: 5, filesPerFolder: 10);
        var before = Snapshot(store);
        new SecurityWalker(store, Map, new TranslationOptions { Mode = TranslationMode.Add }, new WalkOptions { UndoJournalFile = Journal }).Walk(["/c"], []);
        Assert.NotEqual(before["/c/folder000"], store.ReadDescriptor("/c/folder000"));

        var revert = UndoJournal.Revert(store, Journal);

        Assert.Equal(30, revert.Restored);
        Assert.Empty(revert.Errors);
        Assert.All(before, pair => Assert.Equal(pair.Value, store.ReadDescriptor(pair.Key)));
    }

    [Fact]
    public void A_second_walk_changes_nothing()
    {
        var store = Tree(folders: 3, filesPerFolder: 3);
        var walker = new SecurityWalker(store, Map, new TranslationOptions(), new WalkOptions { UndoJournalFile = Journal });
        walker.Walk(["/c"], []);
        var writes = store.WriteCount;

        walker.Walk(["/c"], []);

        Assert.Equal(writes, store.WriteCount);
    }

    [Fact]
    public void A_walk_killed_half_way_resumes_from_its_checkpoint_and_ends_like_an_uninterrupted_one()
    {
        var interrupted = Tree(folders: 10, filesPerFolder: 20);
        var uninterrupted = Tree(folders: 10, filesPerFolder: 20);
        var before = Snapshot(interrupted);
        var expected = new SecurityWalker(uninterrupted, Map, new TranslationOptions(), new WalkOptions { UndoJournalFile = Path.Combine(folder, "other.journal") })
            .Walk(["/c"], []);
        using var kill = new CancellationTokenSource();
        var options = new WalkOptions
        {
            UndoJournalFile = Journal,
            CheckpointFile = Checkpoint,
            CheckpointInterval = 7,
            ProgressInterval = 1,
            Progress = new SynchronousProgress(report =>
            {
                if (report.Seen == 105)
                {
                    kill.Cancel();
                }
            }),
        };

        Assert.Throws<OperationCanceledException>(() => new SecurityWalker(interrupted, Map, new TranslationOptions(), options).Walk(["/c"], [], kill.Token));
        var writesBeforeRestart = interrupted.WriteCount;
        var resumed = new SecurityWalker(interrupted, Map, new TranslationOptions(), options with { Progress = null }).Walk(["/c"], []);

        Assert.True(resumed.Resumed);
        Assert.Equal(expected.Seen, resumed.Seen);
        Assert.Equal(expected.Changed, resumed.Changed);
        Assert.Equal(expected.Changed, writesBeforeRestart + (interrupted.WriteCount - writesBeforeRestart));
        Assert.All(uninterrupted.Paths, path => Assert.Equal(uninterrupted.ReadDescriptor(path), interrupted.ReadDescriptor(path)));
        Assert.False(File.Exists(Checkpoint));
        UndoJournal.Revert(interrupted, Journal);
        Assert.All(before, pair => Assert.Equal(pair.Value, interrupted.ReadDescriptor(pair.Key)));
    }

    [Fact]
    public void A_walk_stopped_between_journaling_an_item_and_writing_it_resumes_and_reverts_correctly()
    {
        var store = Tree(folders: 6, filesPerFolder: 10);
        var before = Snapshot(store);
        var expected = Tree(folders: 6, filesPerFolder: 10);
        var uninterrupted = new SecurityWalker(expected, Map, new TranslationOptions(), new WalkOptions { UndoJournalFile = Path.Combine(folder, "other.journal") }).Walk(["/c"], []);
        var options = new WalkOptions { UndoJournalFile = Journal, CheckpointFile = Checkpoint, CheckpointInterval = 4 };

        Assert.Throws<OperationCanceledException>(() => new SecurityWalker(new StoreStoppingAtWrite(store, 17), Map, new TranslationOptions(), options).Walk(["/c"], []));
        var resumed = new SecurityWalker(store, Map, new TranslationOptions(), options).Walk(["/c"], []);

        Assert.Equal(36, uninterrupted.Changed);
        Assert.Equal(uninterrupted.Changed, resumed.Changed);
        Assert.Equal(uninterrupted.Seen, resumed.Seen);
        Assert.All(expected.Paths, path => Assert.Equal(expected.ReadDescriptor(path), store.ReadDescriptor(path)));
        UndoJournal.Revert(store, Journal);
        Assert.All(before, pair => Assert.Equal(pair.Value, store.ReadDescriptor(pair.Key)));
    }

    [Fact]
    public void A_record_torn_by_a_crash_is_ignored_and_the_journal_stays_usable()
    {
        using (var journal = UndoJournal.Open(Journal))
        {
            journal.Record("/a", [1, 2, 3]);
            journal.Record("/b", [4, 5, 6]);
        }

        File.WriteAllBytes(Journal, File.ReadAllBytes(Journal)[..^2]);
        using (var journal = UndoJournal.Open(Journal))
        {
            journal.Record("/c", [7]);
        }

        Assert.Equal(["/a", "/c"], UndoJournal.ReadAll(Journal).Select(record => record.Path));
    }

    // Stops the process, as a kill would, just before the given write reaches the store (after the journal has it).
    private sealed class StoreStoppingAtWrite(InMemorySecurityStore inner, int stopAtWrite) : ISecurityStore
    {
        private int writes;

        public bool PropagatesInheritance => inner.PropagatesInheritance;

        public byte[] ReadDescriptor(string path) => inner.ReadDescriptor(path);

        public void WriteDescriptor(string path, ReadOnlySpan<byte> descriptor)
        {
            if (++writes == stopAtWrite)
            {
                throw new OperationCanceledException("stopped");
            }

            inner.WriteDescriptor(path, descriptor);
        }

        public IEnumerable<string> EnumerateChildren(string path) => inner.EnumerateChildren(path);
    }

    // The folder is listed by its parent, then deleted before the walk reaches it (its files go with it).
    private sealed class VanishingStore(InMemorySecurityStore inner, string vanishing) : ISecurityStore
    {
        public bool PropagatesInheritance => inner.PropagatesInheritance;

        public byte[] ReadDescriptor(string path) => inner.ReadDescriptor(path);

        public void WriteDescriptor(string path, ReadOnlySpan<byte> descriptor) => inner.WriteDescriptor(path, descriptor);

        public IEnumerable<string> EnumerateChildren(string path)
        {
            var children = inner.EnumerateChildren(path).ToList();
            if (children.Contains(vanishing))
            {
                inner.Remove(vanishing);
            }

            return children;
        }
    }

    private sealed class DefectiveStore(InMemorySecurityStore inner) : ISecurityStore
    {
        public bool PropagatesInheritance => inner.PropagatesInheritance;

        public byte[] ReadDescriptor(string path) => path == "/c/folder000/file000" ? throw new InvalidOperationException("a defect") : inner.ReadDescriptor(path);

        public void WriteDescriptor(string path, ReadOnlySpan<byte> descriptor) => inner.WriteDescriptor(path, descriptor);

        public IEnumerable<string> EnumerateChildren(string path) => inner.EnumerateChildren(path);
    }

    private sealed class SynchronousProgress(Action<WalkProgress> report) : IProgress<WalkProgress>
    {
        public SynchronousProgress(List<WalkProgress> reports)
            : this(reports.Add)
        {
        }

        public void Report(WalkProgress value) => report(value);
    }
}
