using System.Runtime.Versioning;

namespace Rehome.Security.Stores;

/// <summary>
/// NTFS volumes mounted with ntfs-3g on Linux: each file's raw self-relative descriptor is the
/// <c>system.ntfs_acl</c> extended attribute. Paths are file system paths. Nothing propagates inheritance here, so
/// inherited ACEs are translated with the rest.
/// Item errors are <see cref="SecurityStoreException"/>s of the errno's kind.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class NtfsSecurityStore : ISecurityStore
{
    /// <summary>The extended attribute ntfs-3g exposes the descriptor as.</summary>
    public const string AttributeName = "system.ntfs_acl";

    private readonly FileSystemTree tree = new();

    public bool PropagatesInheritance => false;

    public byte[] ReadDescriptor(string path) => LinuxExtendedAttributes.Read(path, AttributeName);

    public void WriteDescriptor(string path, ReadOnlySpan<byte> descriptor)
    {
        StoreErrors.RefuseMalformed(descriptor, path);
        LinuxExtendedAttributes.Write(path, AttributeName, descriptor);
    }

    public IEnumerable<string> EnumerateChildren(string path) => tree.EnumerateChildren(path);
}
