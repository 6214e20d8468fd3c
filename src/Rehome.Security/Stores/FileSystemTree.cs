using System.IO.Enumeration;

namespace Rehome.Security.Stores;

/// <summary>
/// Children of a directory for file-system stores. A symbolic link (ntfs-3g shows NTFS junctions, mount points and
/// symbolic links as symbolic links) is an item but is never walked into, so a walk cannot leave its area through one.
/// </summary>
internal sealed class FileSystemTree
{
    private static readonly EnumerationOptions Everything = new() { AttributesToSkip = 0, IgnoreInaccessible = false };

    // Children the directory listing already showed to be files: asked for their children next, they answer without
    // another round trip to the file system (on ntfs-3g each lstat is a FUSE call). Taken out when asked.
    private readonly HashSet<string> knownFiles = new(StringComparer.Ordinal);
    private readonly Lock gate = new();

    public IReadOnlyList<string> EnumerateChildren(string path)
    {
        lock (gate)
        {
            if (knownFiles.Remove(path))
            {
                return [];
            }
        }

        try
        {
            // GetAttributes does not follow a link: a link to a directory has ReparsePoint set.
            var attributes = File.GetAttributes(path);
            if ((attributes & FileAttributes.Directory) == 0 || (attributes & FileAttributes.ReparsePoint) != 0)
            {
                return [];
            }

            // IsDirectory comes from the listing's entry type; a link to a directory counts as one here and is
            // checked (and not followed) when its own children are asked for.
            var entries = new FileSystemEnumerable<(string Name, bool IsDirectory)>(path,
                (ref FileSystemEntry entry) => (entry.FileName.ToString(), entry.IsDirectory), Everything);
            var children = new List<string>();
            lock (gate)
            {
                foreach (var (name, isDirectory) in entries)
                {
                    var child = Path.Join(path, name);
                    children.Add(child);
                    if (!isDirectory)
                    {
                        knownFiles.Add(child);
                    }
                }
            }

            return children;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw StoreErrors.FromException(exception, path, "list the children of");
        }
    }
}
