namespace Rehome.Security.Stores;

/// <summary>
/// Children of a directory for file-system stores. A symbolic link (ntfs-3g shows NTFS junctions, mount points and
/// symbolic links as symbolic links) is an item but is never walked into, so a walk cannot leave its area through one.
/// </summary>
internal static class FileSystemTree
{
    public static IReadOnlyList<string> EnumerateChildren(string path)
    {
        try
        {
            // GetAttributes does not follow a link: a link to a directory has ReparsePoint set.
            var attributes = File.GetAttributes(path);
            if ((attributes & FileAttributes.Directory) == 0 || (attributes & FileAttributes.ReparsePoint) != 0)
            {
                return [];
            }

            return [.. Directory.EnumerateFileSystemEntries(path)];
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw StoreErrors.FromException(exception, path, "list the children of");
        }
    }
}
