using System.Runtime.Versioning;

namespace Rehome.Security.Stores;

/// <summary>
/// Files whose NT ACL Samba keeps in the <c>security.NTACL</c> extended attribute (vfs_acl_xattr, samba-tool ntacl).
/// Reads and writes version 1 attributes (see <see cref="SambaNtacl"/>); inheritance is not propagated.
/// Item errors are <see cref="SecurityStoreException"/>s.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class SambaNtaclSecurityStore : ISecurityStore
{
    public const string AttributeName = "security.NTACL";

    private readonly FileSystemTree tree = new();

    public bool PropagatesInheritance => false;

    public byte[] ReadDescriptor(string path)
    {
        var attribute = LinuxExtendedAttributes.Read(path, AttributeName);
        try
        {
            return SambaNtacl.Decode(attribute);
        }
        catch (SecurityFormatException exception)
        {
            throw new SecurityStoreException(SecurityStoreErrorKind.Other, path, $"Cannot read {AttributeName} of {path}: {exception.Message}.", exception);
        }
    }

    public void WriteDescriptor(string path, ReadOnlySpan<byte> descriptor)
    {
        StoreErrors.RefuseMalformed(descriptor, path);
        LinuxExtendedAttributes.Write(path, AttributeName, SambaNtacl.Encode(descriptor));
    }

    public IEnumerable<string> EnumerateChildren(string path) => tree.EnumerateChildren(path);
}
