using System.Diagnostics;
using Rehome.Security.Reacl;
using Rehome.Security.Stores;

namespace Rehome.Security.Bench;

/// <summary>Items per second of the Re-ACL walk (and of its revert) on a fresh NTFS image mounted with ntfs-3g (root).</summary>
internal static class NtfsBenchmark
{
    public static (double WalkItemsPerSecond, double RevertItemsPerSecond, long Items) Measure(int items, SidMap map)
    {
        var folder = Directory.CreateTempSubdirectory("rehome-bench-ntfs-").FullName;
        var image = Path.Combine(folder, "volume.img");
        var mountPoint = Path.Combine(folder, "mnt");
        Directory.CreateDirectory(mountPoint);
        using (var file = File.Create(image))
        {
            file.SetLength(Math.Max(64, items / 20) * 1024L * 1024L);
        }

        Run("mkntfs", "-F", "-Q", "-q", image);
        Run("ntfs-3g", image, mountPoint);
        try
        {
            var store = new NtfsSecurityStore();
            var tree = Path.Combine(mountPoint, "tree");
            Directory.CreateDirectory(tree);
            var descriptors = Workload.Descriptors(Workload.Users * 3);
            for (var index = 0; index < items; index++)
            {
                var parent = Path.Combine(tree, $"folder{index / 100:D4}");
                if (index % 100 == 0)
                {
                    Directory.CreateDirectory(parent);
                }

                var path = Path.Combine(parent, $"file{index % 100:D2}.txt");
                File.WriteAllBytes(path, []);
                store.WriteDescriptor(path, descriptors[index % descriptors.Length]);
            }

            var journal = Path.Combine(folder, "undo.journal");
            var clock = Stopwatch.StartNew();
            var result = new SecurityWalker(store, map, new TranslationOptions(), new WalkOptions { UndoJournalFile = journal }).Walk([tree], []);
            var walkRate = result.Seen / clock.Elapsed.TotalSeconds;
            clock.Restart();
            var revert = UndoJournal.Revert(store, journal);
            var revertRate = revert.Restored / clock.Elapsed.TotalSeconds;
            return (walkRate, revertRate, result.Seen);
        }
        finally
        {
            Run("umount", mountPoint);
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void Run(string program, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardError = true })
            ?? throw new InvalidOperationException($"{program} did not start");
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} failed: {error}");
        }
    }
}
