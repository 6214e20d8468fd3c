namespace Rehome.Security.Stores;

/// <summary>A tree of descriptors in memory, for tests and rehearsals. Paths use '/' between names.</summary>
public sealed class InMemorySecurityStore : ISecurityStore
{
    private readonly Dictionary<string, byte[]> descriptors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<string>> children = new(StringComparer.Ordinal);
    private readonly HashSet<string> failingPaths = new(StringComparer.Ordinal);

    public InMemorySecurityStore(bool propagatesInheritance = false)
    {
        PropagatesInheritance = propagatesInheritance;
    }

    public bool PropagatesInheritance { get; }

    /// <summary>Number of descriptor writes so far.</summary>
    public int WriteCount { get; private set; }

    /// <summary>Every item path.</summary>
    public IEnumerable<string> Paths => descriptors.Keys;

    /// <summary>Adds or replaces an item; its parent (the path up to the last '/') gets it as a child.</summary>
    public void Set(string path, byte[] descriptor)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptors[path] = (byte[])descriptor.Clone();
        var separator = path.LastIndexOf('/');
        if (separator > 0)
        {
            var parent = path[..separator];
            if (!children.TryGetValue(parent, out var siblings))
            {
                children[parent] = siblings = new SortedSet<string>(StringComparer.Ordinal);
            }

            siblings.Add(path);
        }
    }

    /// <summary>Makes reads and writes of <paramref name="path"/> fail, as an inaccessible item would.</summary>
    public void FailOn(string path) => failingPaths.Add(path);

    public byte[] ReadDescriptor(string path)
    {
        ThrowIfFailing(path);
        return descriptors.TryGetValue(path, out var descriptor)
            ? (byte[])descriptor.Clone()
            : throw new FileNotFoundException($"No item at {path}.", path);
    }

    public void WriteDescriptor(string path, ReadOnlySpan<byte> descriptor)
    {
        ThrowIfFailing(path);
        if (!descriptors.ContainsKey(path))
        {
            throw new FileNotFoundException($"No item at {path}.", path);
        }

        descriptors[path] = descriptor.ToArray();
        WriteCount++;
    }

    public IEnumerable<string> EnumerateChildren(string path) =>
        children.TryGetValue(path, out var siblings) ? [.. siblings] : [];

    private void ThrowIfFailing(string path)
    {
        if (failingPaths.Contains(path))
        {
            throw new UnauthorizedAccessException($"Access to {path} is denied.");
        }
    }
}
