using Rehome.Security.Stores;

namespace Rehome.Agent.Platform.Windows.Areas;

/// <summary>
/// A flat area of named items with security descriptors (shares, services, printers, scheduled tasks), as an
/// <see cref="ISecurityStore"/>: the root <c>prefix:</c> lists one leaf per item, <c>prefix:NAME</c>. Nothing
/// propagates inheritance between these items. A walk starts at the items themselves (<see cref="ItemPaths"/>),
/// since the root is a list, not an object with a descriptor of its own.
/// </summary>
public abstract class NamedItemStore(string prefix) : ISecurityStore
{
    /// <summary>The root that lists the items, e.g. <c>share:</c>.</summary>
    public string Root { get; } = prefix + ":";

    public bool PropagatesInheritance => false;

    public string PathOf(string name) => Root + name;

    /// <summary>Every item's path, in a stable order (names compared as Windows does, ignoring case).</summary>
    public IReadOnlyList<string> ItemPaths() => [.. ListNames().Order(StringComparer.OrdinalIgnoreCase).Select(PathOf)];

    public IEnumerable<string> EnumerateChildren(string path) =>
        string.Equals(path, Root, StringComparison.OrdinalIgnoreCase) ? ItemPaths() : [];

    public byte[] ReadDescriptor(string path) => Read(NameOf(path), path);

    public void WriteDescriptor(string path, ReadOnlySpan<byte> descriptor) => Write(NameOf(path), path, descriptor.ToArray());

    /// <summary>The names of the items a walk visits (what is skipped, and why, is the area's decision).</summary>
    protected abstract IEnumerable<string> ListNames();

    protected abstract byte[] Read(string name, string path);

    protected abstract void Write(string name, string path, byte[] descriptor);

    /// <summary>The item's name in <paramref name="path"/>; a path outside the area is an item that is not there.</summary>
    public string NameOf(string path) =>
        path.Length > Root.Length && path.StartsWith(Root, StringComparison.OrdinalIgnoreCase)
            ? path[Root.Length..]
            : throw new SecurityStoreException(SecurityStoreErrorKind.NotFound, path, $"{path}: not an item of {Root} (items are {Root}NAME).");
}
