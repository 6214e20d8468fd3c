namespace Rehome.Security.Stores;

/// <summary>A tree of descriptors in memory, for tests and rehearsals. Paths use '/' between names.</summary>
public sealed class InMemorySecurityStore : ISecurityStore
{
    private readonly Dictionary<string, byte[]> descriptors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<string>> children = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (SecurityStoreErrorKind Kind, bool WritesOnly)> failingPaths = new(StringComparer.Ordinal);

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

    /// <summary>
    /// Makes reads and writes (or only writes) of <paramref name="path"/> fail with <paramref name="kind"/>, as an
    /// inaccessible (or, with <see cref="SecurityStoreErrorKind.InUse"/>, a locked) item would.
    /// </summary>
    public void FailOn(string path, SecurityStoreErrorKind kind = SecurityStoreErrorKind.AccessDenied, bool writesOnly = false) =>
        failingPaths[path] = (kind, writesOnly);

    /// <summary>Removes an item (and its subtree), as something outside the walk deleting it would.</summary>
    public void Remove(string path)
    {
        foreach (var item in descriptors.Keys.Where(item => item == path || item.StartsWith(path + "/", StringComparison.Ordinal)).ToList())
        {
            descriptors.Remove(item);
            children.Remove(item);
        }

        var separator = path.LastIndexOf('/');
        if (separator > 0 && children.TryGetValue(path[..separator], out var siblings))
        {
            siblings.Remove(path);
        }
    }

    public byte[] ReadDescriptor(string path)
    {
        ThrowIfFailing(path, "read the security of", isWrite: false);
        return descriptors.TryGetValue(path, out var descriptor)
            ? (byte[])descriptor.Clone()
            : throw NotFound(path, "read the security of");
    }

    public void WriteDescriptor(string path, ReadOnlySpan<byte> descriptor)
    {
        ThrowIfFailing(path, "write the security of", isWrite: true);
        if (!descriptors.ContainsKey(path))
        {
            throw NotFound(path, "write the security of");
        }

        StoreErrors.RefuseMalformed(descriptor, path);
        descriptors[path] = descriptor.ToArray();
        WriteCount++;
    }

    public IEnumerable<string> EnumerateChildren(string path)
    {
        if (!descriptors.ContainsKey(path))
        {
            throw NotFound(path, "list the children of");
        }

        return children.TryGetValue(path, out var siblings) ? [.. siblings] : [];
    }

    private static SecurityStoreException NotFound(string path, string action) =>
        new(SecurityStoreErrorKind.NotFound, path, $"Cannot {action} {path}: no such item.");

    private void ThrowIfFailing(string path, string action, bool isWrite)
    {
        if (failingPaths.TryGetValue(path, out var failure) && (isWrite || !failure.WritesOnly))
        {
            throw new SecurityStoreException(failure.Kind, path, $"Cannot {action} {path}: {failure.Kind}.");
        }
    }
}
