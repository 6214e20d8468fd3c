using System.Collections.Concurrent;

namespace Rehome.Agent.Platform.Simulated;

/// <summary>
/// One lock per simulated device folder and set of files (its hives, its profile list), shared by every object that
/// reads and rewrites them (an agent restarted in the same process makes new ones). Per device, not per process: a
/// fleet process holds thousands of devices, and one lock for all of them made every device's hive and profile calls
/// wait on every other device's file I/O, starving the agents' report loops until their leases lapsed.
/// </summary>
internal static class DeviceLocks
{
    private static readonly ConcurrentDictionary<string, Lock> Locks = new(StringComparer.Ordinal);

    public static Lock For(string folder, string what) => Locks.GetOrAdd(Path.Combine(Path.GetFullPath(folder), what), _ => new Lock());
}
