using System.Runtime.Versioning;

namespace Rehome.Security.Stores;

/// <summary>
/// Files whose NT ACL Samba keeps in the <c>security.NTACL</c> extended attribute (vfs_acl_xattr, samba-tool ntacl).
/// Reads and writes version 1 attributes (see <see cref="SambaNtacl"/>); inheritance is not propagated.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class SambaNtaclSecurityStore : ISecurityStore
{
    public const string AttributeName = "security.NTACL";

    public bool PropagatesInheritance => false;

    public byte[] ReadDescriptor(string path) => SambaNtacl.Decode(LinuxExtendedAttributes.Read(path, AttributeName));

    public void WriteDescriptor(string path, ReadOnlySpan<byte> descriptor) => LinuxExtendedAttributes.Write(path, AttributeName, SambaNtacl.Encode(descriptor));

    public IEnumerable<string> EnumerateChildren(string path) => FileSystemTree.EnumerateChildren(path);
}
