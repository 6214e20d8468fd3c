using System.Runtime.Versioning;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform.Windows;

/// <summary>
/// The jobs name registry keys as Windows writes them (<c>HKLM\SOFTWARE\…</c>); <see cref="WindowsSecurityStore"/>
/// names them <c>registry:MACHINE\SOFTWARE\…</c>. This store translates both ways; file paths pass through.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed class WindowsPathSecurityStore(WindowsSecurityStore inner) : ISecurityStore
{
    private static readonly (string Hive, string StoreName)[] Hives =
    [
        ("HKLM", "MACHINE"),
        ("HKEY_LOCAL_MACHINE", "MACHINE"),
        ("HKU", "USERS"),
        ("HKEY_USERS", "USERS"),
        ("HKCR", "CLASSES_ROOT"),
        ("HKEY_CLASSES_ROOT", "CLASSES_ROOT"),
    ];

    public bool PropagatesInheritance => inner.PropagatesInheritance;

    public byte[] ReadDescriptor(string path) => inner.ReadDescriptor(ToStorePath(path));

    public void WriteDescriptor(string path, ReadOnlySpan<byte> descriptor) => inner.WriteDescriptor(ToStorePath(path), descriptor);

    public IEnumerable<string> EnumerateChildren(string path)
    {
        var storePath = ToStorePath(path);
        if (ReferenceEquals(storePath, path))
        {
            return inner.EnumerateChildren(path);
        }

        // Registry children come back as "<store path>\<name>": keep the caller's spelling of the parent.
        var storeParent = storePath.TrimEnd('\\');
        var parent = path.TrimEnd('\\');
        return inner.EnumerateChildren(storePath).Select(child => parent + child[storeParent.Length..]);
    }

    internal static string ToStorePath(string path)
    {
        foreach (var (hive, storeName) in Hives)
        {
            if (path.Length >= hive.Length && path.StartsWith(hive, StringComparison.OrdinalIgnoreCase)
                && (path.Length == hive.Length || path[hive.Length] == '\\'))
            {
                return WindowsSecurityStore.RegistryPrefix + storeName + path[hive.Length..];
            }
        }

        return path;
    }
}
