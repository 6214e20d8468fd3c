using System.Runtime.Versioning;
using System.Security.AccessControl;

namespace Rehome.Agent.Platform.Windows.Installation;

/// <summary>
/// The protected folders' seam on Windows: attributes from GetFileAttributes (which does not follow a reparse point),
/// owner and DACL through GetNamedSecurityInfo (.NET's DirectorySecurity), creation with the descriptor in place from
/// the first moment (CreateDirectory with security attributes), so there is no instant where ProgramData's ACL applies.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed class WindowsFolderSecurity : IFolderSecurity
{
    private const AccessControlSections OwnerAndDacl = AccessControlSections.Owner | AccessControlSections.Access;

    public FolderFacts? Inspect(string path)
    {
        FileAttributes attributes;
        try
        {
            attributes = File.GetAttributes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        return Facts(path, attributes);
    }

    public void Create(string path, byte[] descriptor)
    {
        var security = new DirectorySecurity();
        security.SetSecurityDescriptorBinaryForm(descriptor, OwnerAndDacl);
        new DirectoryInfo(path).Create(security);
        // CreateDirectory applies the descriptor as given; setting it again makes the protection explicit everywhere.
        Apply(path, descriptor);
    }

    public void Apply(string path, byte[] descriptor)
    {
        var security = new DirectorySecurity();
        security.SetSecurityDescriptorBinaryForm(descriptor, OwnerAndDacl);
        new DirectoryInfo(path).SetAccessControl(security);
    }

    public IEnumerable<(string Path, FolderFacts Facts)> EnumerateContents(string folder)
    {
        // A subfolder that may not be listed is still judged by its own owner (yielded before its contents).
        var options = new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = 0, IgnoreInaccessible = true };
        foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos("*", options))
        {
            var facts = Facts(entry.FullName, entry.Attributes);
            yield return (entry.FullName, facts);
            if (facts.IsDirectory && !facts.IsReparsePoint)
            {
                foreach (var inner in EnumerateContents(entry.FullName))
                {
                    yield return inner;
                }
            }
        }
    }

    private static FolderFacts Facts(string path, FileAttributes attributes)
    {
        var isDirectory = (attributes & FileAttributes.Directory) != 0;
        if ((attributes & FileAttributes.ReparsePoint) != 0)
        {
            // Never read through a link: the descriptor would be the target's.
            return new FolderFacts(isDirectory, IsReparsePoint: true, []);
        }

        try
        {
            FileSystemSecurity security = isDirectory
                ? new DirectoryInfo(path).GetAccessControl(OwnerAndDacl)
                : new FileInfo(path).GetAccessControl(OwnerAndDacl);
            return new FolderFacts(isDirectory, IsReparsePoint: false, security.GetSecurityDescriptorBinaryForm());
        }
        catch (UnauthorizedAccessException)
        {
            // A DACL that denies even SYSTEM and Administrators READ_CONTROL: refused as unreadable, not a crash.
            return new FolderFacts(isDirectory, IsReparsePoint: false, []);
        }
    }
}
