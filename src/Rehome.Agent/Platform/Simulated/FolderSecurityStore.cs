using Rehome.Security.Stores;

namespace Rehome.Agent.Platform.Simulated;

/// <summary>
/// A simulated device's files, folders and registry keys, named by Windows paths (<c>C:\Users\…</c>,
/// <c>HKLM\SOFTWARE\…</c>). Items are real files and folders under <c>drives/</c>; each item's security
/// descriptor is a file under <c>acl/</c>, replaced atomically. Like raw NTFS, nothing propagates inheritance.
/// </summary>
public sealed class FolderSecurityStore(string root) : ISecurityStore
{
    private static readonly string[] Roots = ["C:", "HKLM"];

    public bool PropagatesInheritance => false;

    public byte[] ReadDescriptor(string path)
    {
        var (item, descriptor) = Locate(path);
        if (!Path.Exists(item))
        {
            throw new FileNotFoundException($"No item at {path}.", path);
        }
        return File.Exists(descriptor) ? File.ReadAllBytes(descriptor) : throw new IOException($"{path} has no security descriptor.");
    }

    public void WriteDescriptor(string path, ReadOnlySpan<byte> descriptor)
    {
        var (item, file) = Locate(path);
        if (!Path.Exists(item))
        {
            throw new FileNotFoundException($"No item at {path}.", path);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var temporary = file + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            stream.Write(descriptor);
        }
        File.Move(temporary, file, overwrite: true);
    }

    public IEnumerable<string> EnumerateChildren(string path)
    {
        var (item, _) = Locate(path);
        if (!Directory.Exists(item))
        {
            return [];
        }
        var prefix = path.EndsWith('\\') ? path : path + "\\";
        return Directory.EnumerateFileSystemEntries(item).Select(child => prefix + Path.GetFileName(child));
    }

    /// <summary>Creates a folder or file item (with its parents' folders) and gives it a descriptor.</summary>
    public void Create(string path, bool isFolder, byte[] descriptor, string? content = null)
    {
        var (item, _) = Locate(path);
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

    public bool Exists(string path) => Path.Exists(Locate(path).Item);

    private (string Item, string Descriptor) Locate(string path)
    {
        var parts = path.Split('\\', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || !Roots.Contains(parts[0], StringComparer.OrdinalIgnoreCase)
            || parts.Any(p => p is "." or ".." || p.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0))
        {
            throw new ArgumentException($"'{path}' is not a path on this device (C:\\… or HKLM\\…).", nameof(path));
        }
        var drive = parts[0].TrimEnd(':').ToUpperInvariant();
        var relative = Path.Combine([drive, .. parts[1..]]);
        return (Path.Combine(root, "drives", relative), Path.Combine(root, "acl", relative) + ".sd");
    }
}
