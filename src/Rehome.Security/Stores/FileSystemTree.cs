namespace Rehome.Security.Stores;

/// <summary>Children of a directory for file-system stores; symbolic links are items but are not followed.</summary>
internal static class FileSystemTree
{
    public static IEnumerable<string> EnumerateChildren(string path)
    {
        var attributes = File.GetAttributes(path);
        if ((attributes & FileAttributes.Directory) == 0 || (attributes & FileAttributes.ReparsePoint) != 0)
        {
            return [];
        }

        return Directory.EnumerateFileSystemEntries(path);
    }
}
