using System.Text.Json;
using Rehome.Agent.Journal;
using Rehome.Security.Sids;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform.Simulated.Areas;

/// <summary>
/// A simulated area whose items name their holders (a local group's members, a right's holders), kept in its own
/// JSON file in the device folder: item name → holder SIDs, replaced atomically on each write. A file that is not
/// such a map fails the area as a whole, as an unreadable policy store would.
/// </summary>
public class SimulatedHolderFile(string path) : IHolderStore
{
    private readonly Lock gate = new();

    public string Path { get; } = path;

    public virtual IEnumerable<string> EnumerateItems() => [.. Read().Keys];

    public virtual IReadOnlyList<SecurityIdentifier> ReadHolders(string item) =>
        Read().TryGetValue(item, out var holders)
            ? [.. holders.Select(SecurityIdentifier.Parse)]
            : throw new SecurityStoreException(SecurityStoreErrorKind.NotFound, item, $"{item} is not on this device.");

    public int MaxHolders(string item) => int.MaxValue;

    public virtual void WriteHolders(string item, IReadOnlyList<SecurityIdentifier> holders)
    {
        lock (gate)
        {
            var items = Read();
            if (!items.ContainsKey(item))
            {
                throw new SecurityStoreException(SecurityStoreErrorKind.NotFound, item, $"{item} is not on this device.");
            }
            items[item] = [.. holders.Select(h => h.ToString())];
            DurableFile.WriteJson(Path, items);
        }
    }

    /// <summary>Writes the file with <paramref name="items"/> (the device builder's seed).</summary>
    public static void Create(string path, IEnumerable<KeyValuePair<string, IEnumerable<string>>> items) =>
        DurableFile.WriteJson(path, new SortedDictionary<string, List<string>>(items.ToDictionary(i => i.Key, i => i.Value.Distinct().ToList()), StringComparer.Ordinal));

    private SortedDictionary<string, List<string>> Read()
    {
        lock (gate)
        {
            var read = File.Exists(Path)
                ? DurableFile.ReadJson<Dictionary<string, List<string>>>(Path) ?? throw new JsonException($"{Path} holds no items.")
                : [];
            return new SortedDictionary<string, List<string>>(read, StringComparer.Ordinal);
        }
    }
}
