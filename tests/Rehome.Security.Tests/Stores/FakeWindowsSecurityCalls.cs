using Rehome.Security.Stores;

namespace Rehome.Security.Tests.Stores;

/// <summary>
/// Windows as <see cref="WindowsSecurityStore"/> sees it through its seam: files, folders, reparse points and registry
/// keys holding descriptors, reached by handle, answering with Win32 error codes. It behaves as Windows does where it
/// matters: a path over 259 characters works only in its verbatim form, a reparse point opened without
/// FILE_FLAG_OPEN_REPARSE_POINT (or a registry link without REG_OPTION_OPEN_LINK) is followed, listing a junction's
/// "\*" lists its target, a read needs READ_CONTROL, a write WRITE_DAC and WRITE_OWNER, a SACL the security privilege.
/// Every call is recorded.
/// </summary>
internal sealed class FakeWindowsSecurityCalls : IWindowsSecurityCalls
{
    public const int MaxPath = 260;
    private const uint AllInformation = WindowsSecurityStore.OwnerInformation | WindowsSecurityStore.GroupInformation | WindowsSecurityStore.DaclInformation | WindowsSecurityStore.SaclInformation;
    private readonly Dictionary<string, Item> files = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Item> keys = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<nint, (Item Item, uint Access)> handles = [];
    private readonly HashSet<string> privileges = new(StringComparer.Ordinal);
    private nint nextHandle = 0x100;

    /// <summary>Privileges the token does not hold (EnablePrivilege answers 1300).</summary>
    public HashSet<string> MissingPrivileges { get; } = new(StringComparer.Ordinal);

    /// <summary>Every CreateFile and RegOpenKey: the name as given, the access asked for, the flags or options.</summary>
    public List<(string Name, uint Access, uint Flags)> Opens { get; } = [];

    public int OpenHandles => handles.Count;

    /// <summary>When not 0, the error every get and set of security answers with (the handle stays open).</summary>
    public int SecurityCallError { get; set; }

    /// <summary>Adds a folder, file or reparse point under its verbatim path (<c>\\?\C:\…</c>).</summary>
    public void AddFile(string verbatimPath, byte[] descriptor, bool isFolder, string? reparseTarget = null) =>
        files[verbatimPath.TrimEnd('\\')] = new Item(descriptor, isFolder, reparseTarget?.TrimEnd('\\'));

    public void AddKey(string root, string subKey, byte[] descriptor, string? linkTarget = null) =>
        keys[KeyName(root, subKey)] = new Item(descriptor, true, linkTarget is null ? null : KeyName(root, linkTarget));

    public void RemoveFile(string verbatimPath)
    {
        var name = verbatimPath.TrimEnd('\\');
        foreach (var path in files.Keys.Where(path => path.Equals(name, StringComparison.OrdinalIgnoreCase) || path.StartsWith(name + "\\", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            files.Remove(path);
        }
    }

    public void Deny(string verbatimPath) => files[verbatimPath.TrimEnd('\\')].Denied = true;

    public void Lock(string verbatimPath) => files[verbatimPath.TrimEnd('\\')].Locked = true;

    public byte[] FileDescriptor(string verbatimPath) => files[verbatimPath.TrimEnd('\\')].Descriptor;

    public byte[] KeyDescriptor(string root, string subKey) => keys[KeyName(root, subKey)].Descriptor;

    public int EnablePrivilege(string privilege)
    {
        if (MissingPrivileges.Contains(privilege))
        {
            return 1300;
        }

        privileges.Add(privilege);
        return 0;
    }

    public int GetFileAttributes(string path, out uint attributes)
    {
        attributes = 0;
        var error = Find(path, follow: false, out var item);
        if (error != 0)
        {
            return error;
        }

        attributes = (item!.IsFolder ? WindowsSecurityStore.DirectoryAttribute : 0x20) | (item.Target is null ? 0 : WindowsSecurityStore.ReparsePointAttribute);
        return 0;
    }

    public int CreateFile(string path, uint access, uint flags, out nint handle)
    {
        handle = -1;
        Opens.Add((path, access, flags));
        var error = Find(path, follow: (flags & WindowsSecurityStore.OpenReparsePoint) == 0, out var item);
        if (error == 0 && item!.IsFolder && (flags & WindowsSecurityStore.BackupSemantics) == 0)
        {
            error = 5; // a directory opens only with backup semantics
        }

        return error != 0 ? error : Grant(item!, access, out handle);
    }

    public int GetKernelObjectSecurity(nint handle, uint information, byte[] buffer, out int needed) => Get(handle, buffer, out needed);

    public int SetKernelObjectSecurity(nint handle, uint information, ReadOnlySpan<byte> descriptor) => Set(handle, information, descriptor);

    public int CloseHandle(nint handle) => handles.Remove(handle) ? 0 : 6;

    public int FindFiles(string pattern, List<(string Name, uint Attributes)> entries)
    {
        if (!pattern.EndsWith("\\*", StringComparison.Ordinal))
        {
            return 123;
        }

        var folder = pattern[..^2];
        var error = Find(folder, follow: true, out var item);
        if (error != 0)
        {
            return error == 2 ? 3 : error;
        }

        if (!item!.IsFolder)
        {
            return 267; // ERROR_DIRECTORY
        }

        var listed = files.First(pair => ReferenceEquals(pair.Value, item)).Key;
        entries.Add((".", WindowsSecurityStore.DirectoryAttribute));
        entries.Add(("..", WindowsSecurityStore.DirectoryAttribute));
        foreach (var (path, child) in files)
        {
            if (path.StartsWith(listed + "\\", StringComparison.OrdinalIgnoreCase) && path.IndexOf('\\', listed.Length + 1) < 0)
            {
                entries.Add((path[(listed.Length + 1)..], (child.IsFolder ? WindowsSecurityStore.DirectoryAttribute : 0x20) | (child.Target is null ? 0 : WindowsSecurityStore.ReparsePointAttribute)));
            }
        }

        return 0;
    }

    public int RegOpenKey(nint root, string subKey, uint options, uint access, out nint key)
    {
        key = 0;
        var name = KeyName(RootName(root), subKey);
        Opens.Add((name, access, options));
        if (!keys.TryGetValue(name, out var item))
        {
            return 2;
        }

        if (item.Target is not null && (options & WindowsSecurityStore.RegistryOpenLink) == 0 && !keys.TryGetValue(item.Target, out item))
        {
            return 2;
        }

        return Grant(item, access, out key);
    }

    public int RegGetKeySecurity(nint key, uint information, byte[] buffer, out int needed) => Get(key, buffer, out needed);

    public int RegSetKeySecurity(nint key, uint information, ReadOnlySpan<byte> descriptor) => Set(key, information, descriptor);

    public int RegEnumKeys(nint key, List<string> names)
    {
        if (!handles.TryGetValue(key, out var open))
        {
            return 6;
        }

        if ((open.Access & WindowsSecurityStore.KeyEnumerateSubKeys) == 0)
        {
            return 5;
        }

        var name = keys.First(pair => ReferenceEquals(pair.Value, open.Item)).Key;
        names.AddRange(keys.Keys.Where(child => child.StartsWith(name + "\\", StringComparison.OrdinalIgnoreCase) && child.IndexOf('\\', name.Length + 1) < 0)
            .Select(child => child[(name.Length + 1)..]));
        return 0;
    }

    public int RegCloseKey(nint key) => handles.Remove(key) ? 0 : 6;

    private static string KeyName(string root, string subKey) => subKey.Length == 0 ? root : root + "\\" + subKey;

    private static string RootName(nint root) => (uint)root switch
    {
        0x80000002 => "HKLM",
        0x80000003 => "HKU",
        0x80000000 => "HKCR",
        0x80000001 => "HKCU",
        _ => "?",
    };

    private int Find(string path, bool follow, out Item? item)
    {
        item = null;
        var verbatim = path.StartsWith(@"\\?\", StringComparison.Ordinal);
        if (!verbatim && path.Length >= MaxPath)
        {
            return 3; // MAX_PATH: without \\?\ Windows cannot reach it
        }

        var name = verbatim ? path.TrimEnd('\\') : @"\\?\" + path.TrimEnd('\\');
        if (!files.TryGetValue(name, out item))
        {
            var parent = name[..Math.Max(0, name.LastIndexOf('\\'))];
            return files.ContainsKey(parent) ? 2 : 3;
        }

        if (follow && item.Target is not null)
        {
            return files.TryGetValue(item.Target, out item) ? 0 : 2;
        }

        return 0;
    }

    private int Grant(Item item, uint access, out nint handle)
    {
        handle = 0;
        if (item.Locked)
        {
            return 32;
        }

        if (item.Denied && (access & (WindowsSecurityStore.WriteDac | WindowsSecurityStore.WriteOwner)) != 0)
        {
            return 5;
        }

        if ((access & WindowsSecurityStore.AccessSystemSecurity) != 0 && !privileges.Contains("SeSecurityPrivilege"))
        {
            return 1314;
        }

        handle = nextHandle++;
        handles[handle] = (item, access);
        return 0;
    }

    private int Get(nint handle, byte[] buffer, out int needed)
    {
        needed = 0;
        if (!handles.TryGetValue(handle, out var open) || SecurityCallError != 0)
        {
            return SecurityCallError != 0 ? SecurityCallError : 6;
        }

        if ((open.Access & WindowsSecurityStore.ReadControl) == 0)
        {
            return 5;
        }

        needed = open.Item.Descriptor.Length;
        if (buffer.Length < needed)
        {
            return 122;
        }

        open.Item.Descriptor.CopyTo(buffer, 0);
        return 0;
    }

    private int Set(nint handle, uint information, ReadOnlySpan<byte> descriptor)
    {
        if (!handles.TryGetValue(handle, out var open) || SecurityCallError != 0)
        {
            return SecurityCallError != 0 ? SecurityCallError : 6;
        }

        var needs = ((information & WindowsSecurityStore.DaclInformation) != 0 ? WindowsSecurityStore.WriteDac : 0)
            | ((information & (WindowsSecurityStore.OwnerInformation | WindowsSecurityStore.GroupInformation)) != 0 ? WindowsSecurityStore.WriteOwner : 0)
            | ((information & WindowsSecurityStore.SaclInformation) != 0 ? WindowsSecurityStore.AccessSystemSecurity : 0);
        if ((open.Access & needs) != needs || (information & ~AllInformation) != 0)
        {
            return 5;
        }

        if (descriptor.Length < 20 || descriptor[0] != 1 || (descriptor[3] & 0x80) == 0)
        {
            return 1338;
        }

        open.Item.Descriptor = descriptor.ToArray();
        return 0;
    }

    private sealed class Item(byte[] descriptor, bool isFolder, string? target)
    {
        public byte[] Descriptor { get; set; } = descriptor;

        public bool IsFolder { get; } = isFolder;

        public string? Target { get; } = target;

        public bool Denied { get; set; }

        public bool Locked { get; set; }
    }
}
