using System.Runtime.Versioning;

namespace Rehome.Security.Stores;

/// <summary>
/// Files, folders and registry keys of a running Windows. Each item is opened once, by handle, with backup semantics
/// and without following reparse points (files: <c>CreateFileW</c> with <c>FILE_FLAG_BACKUP_SEMANTICS |
/// FILE_FLAG_OPEN_REPARSE_POINT</c> on the verbatim <c>\\?\</c> path; keys: <c>RegOpenKeyExW</c> with
/// <c>REG_OPTION_BACKUP_RESTORE | REG_OPTION_OPEN_LINK</c>), and its descriptor is read and written as bytes
/// (<c>GetKernelObjectSecurity</c>/<c>SetKernelObjectSecurity</c>, <c>RegGetKeySecurity</c>/<c>RegSetKeySecurity</c>).
/// Those calls write the descriptor as given and do not re-propagate inheritance (SetNamedSecurityInfo would walk
/// the whole subtree on every write), so the walker translates inherited ACEs itself. A junction, symbolic link or
/// mount point is an item (its own descriptor is migrated) but is never walked into; nor is a registry link.
/// Paths are file system paths, or registry keys written <c>registry:MACHINE\SOFTWARE\…</c> (also USERS,
/// CLASSES_ROOT, CURRENT_USER); children keep the caller's spelling of the parent. Item failures are
/// <see cref="SecurityStoreException"/>s (see <see cref="StoreErrors.KindOfWin32"/>).
/// </summary>
public sealed class WindowsSecurityStore : ISecurityStore
{
    /// <summary>Prefix of registry key paths.</summary>
    public const string RegistryPrefix = "registry:";

    internal const uint OwnerInformation = 0x1;
    internal const uint GroupInformation = 0x2;
    internal const uint DaclInformation = 0x4;
    internal const uint SaclInformation = 0x8;
    internal const uint ReadControl = 0x00020000;
    internal const uint WriteDac = 0x00040000;
    internal const uint WriteOwner = 0x00080000;
    internal const uint AccessSystemSecurity = 0x01000000;
    internal const uint KeyEnumerateSubKeys = 0x0008;
    internal const uint BackupSemantics = 0x02000000;
    internal const uint OpenReparsePoint = 0x00200000;
    internal const uint RegistryBackupRestore = 0x4;
    internal const uint RegistryOpenLink = 0x8;
    internal const uint DirectoryAttribute = 0x10;
    internal const uint ReparsePointAttribute = 0x400;
    private const int FileNotFound = 2;
    private const int InsufficientBuffer = 122;

    private static readonly string[] Privileges = ["SeBackupPrivilege", "SeRestorePrivilege", "SeTakeOwnershipPrivilege"];
    private readonly IWindowsSecurityCalls calls;
    private readonly uint parts;
    private readonly uint sacl;
    private byte[] buffer = new byte[1024];

    /// <summary>The store over Windows itself; fails when the process does not hold the privileges (not elevated).</summary>
    [SupportedOSPlatform("windows")]
    public WindowsSecurityStore(bool includeSacl)
        : this(new NativeWindowsSecurityCalls(), includeSacl)
    {
    }

    /// <summary>
    /// The store over <paramref name="calls"/>: enables backup, restore and take-ownership (and, with SACLs,
    /// security) privileges, so that every item can be read and rewritten whatever its DACL says.
    /// </summary>
    public WindowsSecurityStore(IWindowsSecurityCalls calls, bool includeSacl)
    {
        ArgumentNullException.ThrowIfNull(calls);
        this.calls = calls;
        parts = OwnerInformation | GroupInformation | DaclInformation | (includeSacl ? SaclInformation : 0);
        sacl = includeSacl ? AccessSystemSecurity : 0;
        foreach (var privilege in includeSacl ? [.. Privileges, "SeSecurityPrivilege"] : Privileges)
        {
            var error = calls.EnablePrivilege(privilege);
            if (error != 0)
            {
                throw new UnauthorizedAccessException($"The process does not hold {privilege} (error {error}); run the agent elevated, as LocalSystem.");
            }
        }
    }

    public bool PropagatesInheritance => false;

    public byte[] ReadDescriptor(string path)
    {
        const string action = "read the security of";
        var item = Open(path, ReadControl | sacl, action);
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                var error = item.IsKey
                    ? calls.RegGetKeySecurity(item.Handle, parts, buffer, out var needed)
                    : calls.GetKernelObjectSecurity(item.Handle, parts, buffer, out needed);
                if (error == 0)
                {
                    return buffer.AsSpan(0, needed).ToArray();
                }

                // The descriptor can grow between the two calls; ask again a few times.
                if (error != InsufficientBuffer || attempt == 3 || needed <= buffer.Length)
                {
                    throw StoreErrors.FromWin32(error, path, action);
                }

                buffer = new byte[Math.Max(needed, buffer.Length * 2)];
            }
        }
        finally
        {
            Close(item);
        }
    }

    public void WriteDescriptor(string path, ReadOnlySpan<byte> descriptor)
    {
        const string action = "write the security of";
        StoreErrors.RefuseMalformed(descriptor, path);
        var item = Open(path, WriteDac | WriteOwner | sacl, action);
        try
        {
            var error = item.IsKey
                ? calls.RegSetKeySecurity(item.Handle, parts, descriptor)
                : calls.SetKernelObjectSecurity(item.Handle, parts, descriptor);
            if (error != 0)
            {
                throw StoreErrors.FromWin32(error, path, action);
            }
        }
        finally
        {
            Close(item);
        }
    }

    public IEnumerable<string> EnumerateChildren(string path)
    {
        const string action = "list the children of";
        var parent = path.TrimEnd('\\', '/');
        if (IsRegistryPath(path))
        {
            var key = Open(path, KeyEnumerateSubKeys, action);
            try
            {
                var names = new List<string>();
                var error = calls.RegEnumKeys(key.Handle, names);
                return error == 0 ? [.. names.Select(name => parent + "\\" + name)] : throw StoreErrors.FromWin32(error, path, action);
            }
            finally
            {
                Close(key);
            }
        }

        var native = Verbatim(path, action);
        var attributesError = calls.GetFileAttributes(native, out var attributes);
        if (attributesError != 0)
        {
            throw StoreErrors.FromWin32(attributesError, path, action);
        }

        // A reparse point (junction, symbolic link, mount point) is never walked into: what it points at may lie
        // outside the area, or contain the area itself.
        if ((attributes & DirectoryAttribute) == 0 || (attributes & ReparsePointAttribute) != 0)
        {
            return [];
        }

        var entries = new List<(string Name, uint Attributes)>();
        var findError = calls.FindFiles(native.EndsWith('\\') ? native + "*" : native + "\\*", entries);
        if (findError == FileNotFound)
        {
            return []; // the folder exists (its attributes were read) and nothing matches "*": a volume's empty root
        }

        if (findError != 0)
        {
            throw StoreErrors.FromWin32(findError, path, action);
        }

        var separator = path.EndsWith('\\') || path.EndsWith('/') ? path : path + "\\";
        return [.. entries.Where(entry => entry.Name is not ("." or "..")).Select(entry => separator + entry.Name)];
    }

    private static bool IsRegistryPath(string path) => path.StartsWith(RegistryPrefix, StringComparison.OrdinalIgnoreCase);

    private static string Verbatim(string path, string action) => WindowsPaths.ToVerbatim(path)
        ?? throw new SecurityStoreException(SecurityStoreErrorKind.Other, path, $"Cannot {action} {path}: it is not an absolute path.");

    private (nint Handle, bool IsKey) Open(string path, uint access, string action)
    {
        if (IsRegistryPath(path))
        {
            if (!WindowsPaths.TrySplitRegistryPath(path[RegistryPrefix.Length..], out var root, out var subKey))
            {
                throw new SecurityStoreException(SecurityStoreErrorKind.NotFound, path, $"Cannot {action} {path}: there is no such registry hive.");
            }

            var keyError = calls.RegOpenKey(root, subKey, RegistryBackupRestore | RegistryOpenLink, access, out var key);
            return keyError == 0 ? (key, true) : throw StoreErrors.FromWin32(keyError, path, action);
        }

        var error = calls.CreateFile(Verbatim(path, action), access, BackupSemantics | OpenReparsePoint, out var handle);
        return error == 0 ? (handle, false) : throw StoreErrors.FromWin32(error, path, action);
    }

    private void Close((nint Handle, bool IsKey) item)
    {
        // A failed close leaks nothing the walk can act on; the descriptor call's outcome is what counts.
        _ = item.IsKey ? calls.RegCloseKey(item.Handle) : calls.CloseHandle(item.Handle);
    }
}
