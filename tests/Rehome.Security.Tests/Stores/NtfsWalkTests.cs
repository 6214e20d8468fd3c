using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.Versioning;
using System.Text;
using Rehome.Security.Descriptors;
using Rehome.Security.Reacl;
using Rehome.Security.Sddl;
using Rehome.Security.Sids;
using Rehome.Security.Stores;
using Rehome.Security.Tests.Support;

namespace Rehome.Security.Tests.Stores;

/// <summary>
/// The Re-ACL walk on a real NTFS volume through ntfs-3g: over 10,000 items granting source-domain SIDs, cancelled half
/// way and resumed, each result checked by Samba's decoder, then reverted byte-for-byte; and a walk in another process
/// killed with SIGKILL half way, resumed to the same descriptors as an uninterrupted walk; a walk over junctions,
/// symbolic links and paths over 260 characters that never leaves its area.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class NtfsWalkTests
{
    private const int Folders = 100;
    private const int FilesPerFolder = 100;
    private static readonly SecurityIdentifier Source = SecurityIdentifier.Parse("S-1-5-21-1000-2000-3000");
    private static readonly SecurityIdentifier Destination = SecurityIdentifier.Parse("S-1-5-21-4000-5000-6000");

    // Reads each item's system.ntfs_acl (size first: ntfs-3g gives EIO to a short buffer), decodes it with Samba and
    // compares it with the expected SDDL as Samba reads that; prints one line per mismatch, then the count checked.
    private const string SambaCheck = """
        import ctypes, sys
        from samba.ndr import ndr_unpack
        from samba.dcerpc import security
        libc = ctypes.CDLL(None, use_errno=True)
        def read(path):
            size = libc.getxattr(path.encode(), b"system.ntfs_acl", None, 0)
            buffer = ctypes.create_string_buffer(size)
            size = libc.getxattr(path.encode(), b"system.ntfs_acl", buffer, size)
            if size < 0:
                raise OSError(ctypes.get_errno(), path)
            return buffer.raw[:size]
        domain = security.dom_sid("S-1-5-21-4000-5000-6000")
        checked = 0
        for line in sys.stdin:
            path, expected = line.rstrip("\n").split("\t")
            actual = ndr_unpack(security.descriptor, read(path)).as_sddl()
            wanted = security.descriptor.from_sddl(expected, domain).as_sddl()
            if actual != wanted:
                print("MISMATCH", path, actual, wanted)
            checked += 1
        print("checked", checked)
        """;

    private static string User(SecurityIdentifier domain, int index) => domain.WithRid((uint)(1100 + (index % Folders))).ToString();

    private static string Group(SecurityIdentifier domain) => domain.WithRid(513).ToString();

    // Folder and file descriptors of the tree, written with source SIDs and read back expecting destination SIDs.
    private static string FolderSddl(SecurityIdentifier domain, int folder) =>
        $"O:{User(domain, folder)}G:{Group(domain)}D:AI(A;OICI;0x1f01ff;;;{User(domain, folder)})(A;OICI;0x1200a9;;;{Group(domain)})(A;OICI;0x1f01ff;;;BA)(A;OICI;0x1f01ff;;;SY)";

    private static string FileSddl(SecurityIdentifier domain, int folder, int file) => (file % 3) switch
    {
        0 => $"O:{User(domain, folder)}G:{Group(domain)}D:AI(A;ID;0x1f01ff;;;{User(domain, folder)})(A;ID;0x1200a9;;;{Group(domain)})(A;ID;0x1f01ff;;;BA)(A;ID;0x1f01ff;;;SY)",
        1 => $"O:BAG:{Group(domain)}D:AI(D;;0x40000;;;{User(domain, folder + 1)})(A;;0x1301bf;;;{User(domain, folder)})(A;ID;0x1f01ff;;;BA)(A;ID;0x1f01ff;;;SY)",
        _ => "O:BAG:SYD:(A;;0x1f01ff;;;BA)(A;;0x1200a9;;;S-1-5-21-9-9-9-1000)",
    };

    private static SidMap Map()
    {
        var map = new SidMap();
        for (var index = 0; index < Folders; index++)
        {
            map.Add(SecurityIdentifier.Parse(User(Source, index)), SecurityIdentifier.Parse(User(Destination, index)));
        }

        map.Add(Source.WithRid(513), Destination.WithRid(513));
        return map;
    }

    [Fact]
    public void A_killed_walk_resumes_translates_every_descriptor_samba_agrees_and_revert_restores_every_byte()
    {
        using var volume = new NtfsVolume(megabytes: 256);
        var store = new NtfsSecurityStore();
        var tree = Path.Combine(volume.MountPoint, "tree");
        var expected = WriteTree(store, tree, Folders);
        var originals = ReadDescriptors(store, tree);

        var work = Directory.CreateTempSubdirectory("rehome-ntfs-walk-").FullName;
        try
        {
            using var kill = new CancellationTokenSource();
            var options = new WalkOptions
            {
                UndoJournalFile = Path.Combine(work, "undo.journal"),
                CheckpointFile = Path.Combine(work, "walk.checkpoint"),
                CheckpointInterval = 250,
                ProgressInterval = 1,
                Progress = new KillAt(5000, kill),
            };

            Assert.Throws<OperationCanceledException>(() => new SecurityWalker(store, Map(), new TranslationOptions(), options).Walk([tree], [], kill.Token));
            Assert.True(File.Exists(options.CheckpointFile));
            var result = new SecurityWalker(store, Map(), new TranslationOptions(), options with { Progress = null }).Walk([tree], []);

            Assert.True(result.Resumed);
            Assert.Equal(Folders * (FilesPerFolder + 1) + 1, result.Seen);
            Assert.Equal(Folders * (1 + FilesPerFolder - (FilesPerFolder / 3)), result.Changed);
            Assert.Empty(result.Errors);

            var check = PythonSamba.Run(SambaCheck, expected);
            Assert.Equal($"checked {Folders * (FilesPerFolder + 1)}\n", check);

            var revert = UndoJournal.Revert(store, options.UndoJournalFile);
            Assert.Empty(revert.Errors);
            Assert.Equal(result.Changed, revert.Restored);
            AssertSameDescriptors(originals, ReadDescriptors(store, tree));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public void A_walk_killed_with_sigkill_in_another_process_resumes_to_the_descriptors_of_an_uninterrupted_walk_and_reverts_every_byte()
    {
        const int folders = 40;
        var items = (folders * (FilesPerFolder + 1)) + 1;
        using var volume = new NtfsVolume(megabytes: 256);
        var store = new NtfsSecurityStore();
        var killedTree = Path.Combine(volume.MountPoint, "killed");
        var uninterruptedTree = Path.Combine(volume.MountPoint, "uninterrupted");
        WriteTree(store, killedTree, folders);
        WriteTree(store, uninterruptedTree, folders);
        var originals = ReadDescriptors(store, killedTree);
        AssertSameDescriptors(originals, ReadDescriptors(store, uninterruptedTree));

        var work = Directory.CreateTempSubdirectory("rehome-ntfs-kill-").FullName;
        try
        {
            var mapFile = Path.Combine(work, "sid.map");
            File.WriteAllLines(mapFile, Map().Pairs.Select(pair => $"{pair.Key}\t{pair.Value}"));
            var options = new WalkOptions
            {
                UndoJournalFile = Path.Combine(work, "undo.journal"),
                CheckpointFile = Path.Combine(work, "walk.checkpoint"),
            };

            var checkpointAtKill = RunWalkProcessAndKill(killedTree, mapFile, options, killAfterSeen: items / 4);
            Assert.InRange(checkpointAtKill, items / 4, items - 1);
            var translatedAtKill = ReadDescriptors(store, killedTree).Count(pair => !pair.Value.AsSpan().SequenceEqual(originals[pair.Key]));
            Assert.InRange(translatedAtKill, 1, folders * (1 + FilesPerFolder - (FilesPerFolder / 3)) - 1);

            var resumed = new SecurityWalker(store, Map(), new TranslationOptions(), options).Walk([killedTree], []);
            var uninterruptedOptions = new WalkOptions { UndoJournalFile = Path.Combine(work, "uninterrupted.journal") };
            var uninterrupted = new SecurityWalker(store, Map(), new TranslationOptions(), uninterruptedOptions).Walk([uninterruptedTree], []);

            Assert.True(resumed.Resumed);
            Assert.Empty(resumed.Errors);
            Assert.Empty(uninterrupted.Errors);
            Assert.Equal(items, uninterrupted.Seen);
            Assert.Equal(folders * (1 + FilesPerFolder - (FilesPerFolder / 3)), uninterrupted.Changed);
            Assert.Equal((uninterrupted.Seen, uninterrupted.Changed, uninterrupted.Failed), (resumed.Seen, resumed.Changed, resumed.Failed));
            AssertSameDescriptors(ReadDescriptors(store, uninterruptedTree), ReadDescriptors(store, killedTree));

            var revert = UndoJournal.Revert(store, options.UndoJournalFile);
            Assert.Empty(revert.Errors);
            Assert.Equal(resumed.Changed, revert.Restored);
            AssertSameDescriptors(originals, ReadDescriptors(store, killedTree));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public void A_walk_over_junctions_symbolic_links_and_long_paths_changes_only_its_area_and_reverts_every_byte()
    {
        using var volume = new NtfsVolume(megabytes: 256);
        var store = new NtfsSecurityStore();
        var outside = Path.Combine(volume.MountPoint, "outside");
        var secret = Path.Combine(outside, "secret");
        Directory.CreateDirectory(secret);
        store.WriteDescriptor(outside, SddlParser.Parse(FolderSddl(Source, 0)).ToBinary());
        store.WriteDescriptor(secret, SddlParser.Parse(FolderSddl(Source, 1)).ToBinary());
        for (var index = 0; index < 20; index++)
        {
            var file = Path.Combine(secret, $"file{index:D2}.txt");
            File.WriteAllBytes(file, []);
            store.WriteDescriptor(file, SddlParser.Parse(FileSddl(Source, 2, index)).ToBinary());
        }

        var area = Path.Combine(volume.MountPoint, "area");
        WriteTree(store, area, Folders);
        var linkSddl = FileSddl(Source, 3, 0);

        // A symbolic link made on Linux, and an NTFS junction to \??\C:\outside (ntfs-3g shows it as a symbolic link
        // to the mounted volume's outside folder): items of the area whose targets are not.
        var link = Path.Combine(area, "link");
        File.CreateSymbolicLink(link, "../outside");
        store.WriteDescriptor(link, SddlParser.Parse(linkSddl).ToBinary());
        var junction = Path.Combine(area, "junction");
        Directory.CreateDirectory(junction);
        MakeJunction(junction, @"C:\outside");
        volume.Remount(); // the kernel still holds the junction as the folder it was
        store.WriteDescriptor(junction, SddlParser.Parse(linkSddl).ToBinary());
        Assert.Equal(20, Directory.GetFileSystemEntries(Path.Combine(junction, "secret")).Length);
        Assert.Equal(20, Directory.GetFileSystemEntries(Path.Combine(link, "secret")).Length);

        // Folders nested until the file's path is well over 260 characters, even counted from the volume's root.
        var deep = area;
        for (var level = 0; level < 8; level++)
        {
            deep = Path.Combine(deep, $"a folder nested to make a path longer than Windows' MAX_PATH, level {level}");
            Directory.CreateDirectory(deep);
            store.WriteDescriptor(deep, SddlParser.Parse(FolderSddl(Source, level)).ToBinary());
        }

        var longFile = Path.Combine(deep, "long.txt");
        File.WriteAllBytes(longFile, []);
        store.WriteDescriptor(longFile, SddlParser.Parse(FileSddl(Source, 9, 0)).ToBinary());
        Assert.True(Path.GetRelativePath(volume.MountPoint, longFile).Length > 2 * 260);

        var outsideBefore = ReadDescriptors(store, outside);
        var areaBefore = ReadDescriptors(store, area);
        var work = Directory.CreateTempSubdirectory("rehome-ntfs-links-").FullName;
        try
        {
            var journal = Path.Combine(work, "undo.journal");
            var result = new SecurityWalker(store, Map(), new TranslationOptions(), new WalkOptions { UndoJournalFile = journal }).Walk([area], []);

            var items = (Folders * (FilesPerFolder + 1)) + 1 + 2 + 9;
            Assert.Empty(result.Errors);
            Assert.Equal(items, result.Seen);
            Assert.Equal((Folders * (1 + FilesPerFolder - (FilesPerFolder / 3))) + 2 + 9, result.Changed);
            AssertSameDescriptors(outsideBefore, ReadDescriptors(store, outside));
            Assert.Equal(Canonical(FileSddl(Destination, 3, 0)), SddlWriter.Write(SecurityDescriptor.FromBinary(store.ReadDescriptor(link))));
            Assert.Equal(Canonical(FileSddl(Destination, 3, 0)), SddlWriter.Write(SecurityDescriptor.FromBinary(store.ReadDescriptor(junction))));
            Assert.Equal(Canonical(FileSddl(Destination, 9, 0)), SddlWriter.Write(SecurityDescriptor.FromBinary(store.ReadDescriptor(longFile))));

            var revert = UndoJournal.Revert(store, journal);

            Assert.Empty(revert.Errors);
            Assert.Equal(result.Changed, revert.Restored);
            AssertSameDescriptors(areaBefore, ReadDescriptors(store, area));
            AssertSameDescriptors(outsideBefore, ReadDescriptors(store, outside));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public void Descriptors_ntfs_3g_writes_for_new_items_decode_and_survive_a_round_trip_through_the_volume()
    {
        using var volume = new NtfsVolume(megabytes: 16);
        var store = new NtfsSecurityStore();
        var file = Path.Combine(volume.MountPoint, "new.txt");
        File.WriteAllBytes(file, [1]);
        var sddl = "O:S-1-5-21-1000-2000-3000-1105G:DUD:PAI(D;;WD;;;WD)(OA;CI;RPWP;bf967a86-0de6-11d0-a285-00aa003049e2;;AU)(A;OICIID;FA;;;S-1-5-21-1000-2000-3000-1105)S:(AU;SAFA;FA;;;WD)";

        var fresh = SecurityDescriptor.FromBinary(store.ReadDescriptor(file));
        var written = SddlParser.Parse(sddl, Source).ToBinary();
        store.WriteDescriptor(file, written);

        Assert.NotNull(fresh.Owner);
        Assert.Equal(written, store.ReadDescriptor(file));
        Assert.Equal(sddl, SddlWriter.Write(SecurityDescriptor.FromBinary(store.ReadDescriptor(file)), Source));
    }

    // Folders of FilesPerFolder files under root, with source SIDs; returns "path<TAB>expected SDDL" lines for SambaCheck.
    private static string WriteTree(NtfsSecurityStore store, string root, int folders)
    {
        Directory.CreateDirectory(root);
        var expected = new StringBuilder();
        for (var folderIndex = 0; folderIndex < folders; folderIndex++)
        {
            var folderPath = Path.Combine(root, $"folder{folderIndex:D3}");
            Directory.CreateDirectory(folderPath);
            store.WriteDescriptor(folderPath, SddlParser.Parse(FolderSddl(Source, folderIndex)).ToBinary());
            expected.Append(folderPath).Append('\t').Append(FolderSddl(Destination, folderIndex)).Append('\n');
            for (var fileIndex = 0; fileIndex < FilesPerFolder; fileIndex++)
            {
                var filePath = Path.Combine(folderPath, $"file{fileIndex:D3}.txt");
                File.WriteAllBytes(filePath, []);
                store.WriteDescriptor(filePath, SddlParser.Parse(FileSddl(Source, folderIndex, fileIndex)).ToBinary());
                expected.Append(filePath).Append('\t').Append(FileSddl(Destination, folderIndex, fileIndex)).Append('\n');
            }
        }

        return expected.ToString();
    }

    private static string Canonical(string sddl) => SddlWriter.Write(SddlParser.Parse(sddl));

    // Turns an empty folder into an NTFS junction (IO_REPARSE_TAG_MOUNT_POINT) through ntfs-3g's reparse attribute.
    private static void MakeJunction(string folder, string target)
    {
        var substitute = Encoding.Unicode.GetBytes(@"\??\" + target);
        var print = Encoding.Unicode.GetBytes(target);
        var buffer = new byte[8 + substitute.Length + 2 + print.Length + 2];
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(2), (ushort)substitute.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(4), (ushort)(substitute.Length + 2));
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(6), (ushort)print.Length);
        substitute.CopyTo(buffer, 8);
        print.CopyTo(buffer, 8 + substitute.Length + 2);
        var data = new byte[8 + buffer.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(data, 0xA0000003);
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(4), (ushort)buffer.Length);
        buffer.CopyTo(data, 8);
        LinuxExtendedAttributes.Write(folder, "system.ntfs_reparse_data", data);
    }

    // Every item's descriptor under root (root included), by path relative to root, so two copies of a tree compare.
    private static Dictionary<string, byte[]> ReadDescriptors(NtfsSecurityStore store, string root) =>
        Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Append(root)
            .ToDictionary(path => Path.GetRelativePath(root, path), store.ReadDescriptor, StringComparer.Ordinal);

    private static void AssertSameDescriptors(Dictionary<string, byte[]> expected, Dictionary<string, byte[]> actual)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        Assert.All(expected, pair => Assert.True(pair.Value.AsSpan().SequenceEqual(actual[pair.Key]), $"{pair.Key}: descriptors differ"));
    }

    // Starts the walk in Rehome.Security.WalkProcess (copied next to this assembly by the project reference), waits
    // until its checkpoint has passed killAfterSeen items, kills it with SIGKILL and returns the checkpoint's count.
    private static long RunWalkProcessAndKill(string tree, string mapFile, WalkOptions options, long killAfterSeen)
    {
        var program = Path.Combine(AppContext.BaseDirectory, "Rehome.Security.WalkProcess.dll");
        var start = new ProcessStartInfo("dotnet", [program, tree, mapFile, options.CheckpointFile!, options.UndoJournalFile!])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var walk = Process.Start(start) ?? throw new InvalidOperationException("the walk process did not start");
        var output = walk.StandardOutput.ReadToEndAsync();
        var error = walk.StandardError.ReadToEndAsync();
        try
        {
            var deadline = Stopwatch.StartNew();
            while (WalkCheckpoint.Load(options.CheckpointFile) is not { } checkpoint || checkpoint.Seen < killAfterSeen)
            {
                // Waiting for the exit is the poll's pause, and catches a walk that ended (or failed) before the kill.
                if (walk.WaitForExit(TimeSpan.FromMilliseconds(5)))
                {
                    Assert.Fail($"The walk process exited ({walk.ExitCode}) before it was killed: {output.Result}{error.Result}");
                }

                Assert.True(deadline.Elapsed < TimeSpan.FromMinutes(1), $"No checkpoint past {killAfterSeen} items within a minute.");
            }
        }
        finally
        {
            walk.Kill(); // SIGKILL on Linux: no finally blocks, flushes or disposal run in the walk
            walk.WaitForExit();
        }

        Assert.True(walk.ExitCode == 128 + 9, $"The walk process was not killed by SIGKILL ({walk.ExitCode}): {output.Result}{error.Result}");
        return WalkCheckpoint.Load(options.CheckpointFile)!.Seen;
    }

    private sealed class KillAt(long seen, CancellationTokenSource kill) : IProgress<WalkProgress>
    {
        public void Report(WalkProgress value)
        {
            if (value.Seen == seen)
            {
                kill.Cancel();
            }
        }
    }
}
