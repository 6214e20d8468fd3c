using Rehome.Security.Stores;

namespace Rehome.Agent.Platform.Simulated;

/// <summary>
/// A simulated device's files, folders and registry keys, named by Windows paths (<c>C:\Users\…</c>,
/// <c>HKLM\SOFTWARE\…</c>). Items are real files and folders under <c>drives/</c>; each item's security
/// descriptor is a file under <c>acl/</c>, replaced atomically. Like raw NTFS, nothing propagates inheritance.
/// Item failures are <see cref="SecurityStoreException"/>s, as on a real device: a path on a drive or hive the device
/// does not have is not found.
/// </summary>
public sealed class FolderSecurityStore(string root) : ISecurityStore
{
    private static readonly string[] Roots = ["C:", "HKLM"];

    public bool PropagatesInheritance => false;

    public byte[] ReadDescriptor(string path)
    {
        const string action = "read the security of";
        var (item, descriptor) = Locate(path, action);
        try
        {
            return !Path.Exists(item) ? throw NotFound(path, action)
                : File.Exists(descriptor) ? File.ReadAllBytes(descriptor)
                : throw new SecurityStoreException(SecurityStoreErrorKind.Other, path, $"Cannot {action} {path}: it has no security descriptor.");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw StoreErrors.FromException(exception, path, action);
        }
    }

    public void WriteDescriptor(string path, ReadOnlySpan<byte> descriptor)
    {
        const string action = "write the security of";
        var (item, file) = Locate(path, action);
        if (!Path.Exists(item))
        {
            throw NotFound(path, action);
        }

        StoreErrors.RefuseMalformed(descriptor, path);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            var temporary = file + ".tmp";
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
            {
                stream.Write(descriptor);
            }

            File.Move(temporary, file, overwrite: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw StoreErrors.FromException(exception, path, action);
        }
    }

    public IEnumerable<string> EnumerateChildren(string path)
    {
        const string action = "list the children of";
        var (item, _) = Locate(path, action);
        if (!Path.Exists(item))
        {
            throw NotFound(path, action);
        }

        if (!Directory.Exists(item))
        {
            return [];
        }

        var prefix = path.EndsWith('\\') ? path : path + "\\";
        try
        {
            return [.. Directory.EnumerateFileSystemEntries(item).Select(child => prefix + Path.GetFileName(child))];
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw StoreErrors.FromException(exception, path, action);
        }
    }

    /// <summary>Creates a folder or file item (with its parents' folders) and gives it a descriptor.</summary>
    public void Create(string path, bool isFolder, byte[] descriptor, string? content = null)
    {
        var (item, _) = Locate(path, "create");
        if (isFolder)
        {
            Directory.CreateDirectory(item);
        }
        else
        {
            Directory.CreateDirectory(Path.GetDirectoryName(item)!);
            File.WriteAllText(item, content ?? "");
        }
        WriteDescriptor(path, descriptor);
    }

    public bool Exists(string path) => Path.Exists(Locate(path, "find").Item);

    private static SecurityStoreException NotFound(string path, string action) =>
        new(SecurityStoreErrorKind.NotFound, path, $"Cannot {action} {path}: it does not exist.");

    private (string Item, string Descriptor) Locate(string path, string action)
    {
        var parts = path.Split('\\', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts.Any(p => p is "." or ".." || p.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0))
        {
            // Never a path outside the device's folder: ".." and separators inside a name are refused.
            throw new SecurityStoreException(SecurityStoreErrorKind.Other, path, $"Cannot {action} '{path}': it is not a path on this device (C:\\… or HKLM\\…).");
        }

        if (!Roots.Contains(parts[0], StringComparer.OrdinalIgnoreCase))
        {
            throw NotFound(path, action);
        }

        var drive = parts[0].TrimEnd(':').ToUpperInvariant();
        var relative = Path.Combine([drive, .. parts[1..]]);
        return (Path.Combine(root, "drives", relative), Path.Combine(root, "acl", relative) + ".sd");
    }
}
