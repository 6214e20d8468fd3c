namespace Rehome.Security.Stores;

/// <summary>
/// A place that holds security descriptors in a tree: a file system, the registry, an in-memory model. Items are
/// named by store-specific paths; descriptors travel in self-relative binary form. Every item failure is a
/// <see cref="SecurityStoreException"/> of a documented kind (the contract suite in the tests holds every store to it).
/// </summary>
public interface ISecurityStore
{
    /// <summary>
    /// Whether the store itself propagates inheritable ACEs to children when a parent changes (Windows APIs do;
    /// raw NTFS attributes and the registry written key by key do not). When false, inherited ACEs are translated too.
    /// </summary>
    bool PropagatesInheritance { get; }

    /// <summary>The item's security descriptor.</summary>
    byte[] ReadDescriptor(string path);

    /// <summary>Replaces the item's security descriptor; a malformed one is refused and the item left as it was.</summary>
    void WriteDescriptor(string path, ReadOnlySpan<byte> descriptor);

    /// <summary>The item's children (full paths), empty for a leaf.</summary>
    IEnumerable<string> EnumerateChildren(string path);
}
