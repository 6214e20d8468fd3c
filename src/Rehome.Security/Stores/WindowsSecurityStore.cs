using System.Buffers.Binary;
using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32;
using Rehome.Security.Descriptors;

namespace Rehome.Security.Stores;

/// <summary>
/// Files, folders and registry keys of a running Windows, through GetNamedSecurityInfo/SetNamedSecurityInfo with the
/// backup, restore, security and take-ownership privileges enabled so that every item can be read and rewritten.
/// Paths are file system paths, or registry keys written <c>registry:MACHINE\SOFTWARE\…</c> (also USERS,
/// CLASSES_ROOT, CURRENT_USER). SetNamedSecurityInfo propagates inheritance to children itself.
/// </summary>
[SupportedOSPlatform("windows")]
public sealed partial class WindowsSecurityStore : ISecurityStore
{
    /// <summary>Prefix of registry key paths.</summary>
    public const string RegistryPrefix = "registry:";

    private const int FileObject = 1;
    private const int RegistryKeyObject = 4;
    private const uint OwnerInformation = 0x1;
    private const uint GroupInformation = 0x2;
    private const uint DaclInformation = 0x4;
    private const uint SaclInformation = 0x8;
    private const uint ProtectedDaclInformation = 0x80000000;
    private const uint ProtectedSaclInformation = 0x40000000;
    private const uint UnprotectedDaclInformation = 0x20000000;
    private const uint UnprotectedSaclInformation = 0x10000000;
    private const uint PrivilegeEnabled = 0x2;
    private const uint AdjustPrivileges = 0x20;
    private const uint QueryToken = 0x8;
    private const int NotAllAssigned = 1300;

    private static readonly string[] Privileges = ["SeBackupPrivilege", "SeRestorePrivilege", "SeSecurityPrivilege", "SeTakeOwnershipPrivilege"];
    private readonly uint parts;

    /// <summary>Enables the privileges the store needs; fails when the process does not hold them (not elevated).</summary>
    public WindowsSecurityStore(bool includeSacl)
    {
        parts = OwnerInformation | GroupInformation | DaclInformation | (includeSacl ? SaclInformation : 0);
        foreach (var privilege in Privileges)
        {
            if (privilege != "SeSecurityPrivilege" || includeSacl)
            {
                EnablePrivilege(privilege);
            }
        }
    }

    public bool PropagatesInheritance => true;

    public byte[] ReadDescriptor(string path)
    {
        var (name, type) = Resolve(path);
        var error = GetNamedSecurityInfo(name, type, parts, out _, out _, out _, out _, out var descriptor);
        if (error != 0)
        {
            throw new Win32Exception(error, $"Cannot read the security of {path}.");
        }

        try
        {
            var length = GetSecurityDescriptorLength(descriptor);
            var result = new byte[length];
            Marshal.Copy(descriptor, result, 0, (int)length);
            return result;
        }
        finally
        {
            LocalFree(descriptor);
        }
    }

    public void WriteDescriptor(string path, ReadOnlySpan<byte> descriptor)
    {
        var layout = DescriptorLayout.Parse(descriptor);
        var (name, type) = Resolve(path);
        var information = parts;
        information |= (layout.Control & ControlFlags.DaclProtected) != 0 ? ProtectedDaclInformation : UnprotectedDaclInformation;
        if ((parts & SaclInformation) != 0)
        {
            information |= (layout.Control & ControlFlags.SaclProtected) != 0 ? ProtectedSaclInformation : UnprotectedSaclInformation;
        }

        var copy = descriptor.ToArray();
        var handle = GCHandle.Alloc(copy, GCHandleType.Pinned);
        try
        {
            var start = handle.AddrOfPinnedObject();
            nint Part(int offset) => offset == 0 ? 0 : start + offset;
            var error = SetNamedSecurityInfo(name, type, information, Part(layout.OwnerOffset), Part(layout.GroupOffset), Part(layout.DaclOffset), Part(layout.SaclOffset));
            if (error != 0)
            {
                throw new Win32Exception(error, $"Cannot write the security of {path}.");
            }
        }
        finally
        {
            handle.Free();
        }
    }

    public IEnumerable<string> EnumerateChildren(string path)
    {
        if (!path.StartsWith(RegistryPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return FileSystemTree.EnumerateChildren(path);
        }

        var (hive, subKey) = SplitRegistryPath(path[RegistryPrefix.Length..]);
        using var root = RegistryKey.OpenBaseKey(hive, RegistryView.Default);
        using var key = subKey.Length == 0 ? root : root.OpenSubKey(subKey, writable: false);
        return key is null ? [] : [.. key.GetSubKeyNames().Select(child => path.TrimEnd('\\') + "\\" + child)];
    }

    private static (string Name, int Type) Resolve(string path) => path.StartsWith(RegistryPrefix, StringComparison.OrdinalIgnoreCase)
        ? (path[RegistryPrefix.Length..], RegistryKeyObject)
        : (path, FileObject);

    private static (RegistryHive Hive, string SubKey) SplitRegistryPath(string name)
    {
        var separator = name.IndexOf('\\', StringComparison.Ordinal);
        var hiveName = separator < 0 ? name : name[..separator];
        var subKey = separator < 0 ? string.Empty : name[(separator + 1)..];
        var hive = hiveName.ToUpperInvariant() switch
        {
            "MACHINE" => RegistryHive.LocalMachine,
            "USERS" => RegistryHive.Users,
            "CLASSES_ROOT" => RegistryHive.ClassesRoot,
            "CURRENT_USER" => RegistryHive.CurrentUser,
            _ => throw new ArgumentException($"Unknown registry hive '{hiveName}'.", nameof(name)),
        };
        return (hive, subKey);
    }

    private static void EnablePrivilege(string privilege)
    {
        if (!OpenProcessToken(GetCurrentProcess(), AdjustPrivileges | QueryToken, out var token))
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), "Cannot open the process token.");
        }

        try
        {
            if (!LookupPrivilegeValue(null, privilege, out var luid))
            {
                throw new Win32Exception(Marshal.GetLastPInvokeError(), $"Unknown privilege {privilege}.");
            }

            Span<byte> state = stackalloc byte[16];
            BinaryPrimitives.WriteUInt32LittleEndian(state, 1);
            BinaryPrimitives.WriteInt64LittleEndian(state[4..], luid);
            BinaryPrimitives.WriteUInt32LittleEndian(state[12..], PrivilegeEnabled);
            var adjusted = AdjustTokenPrivileges(token, false, ref MemoryMarshal.GetReference(state), 0, 0, 0);
            var error = Marshal.GetLastPInvokeError();
            if (!adjusted || error == NotAllAssigned)
            {
                throw new Win32Exception(error, $"The process does not hold {privilege}; run elevated.");
            }
        }
        finally
        {
            CloseHandle(token);
        }
    }

    [LibraryImport("advapi32.dll", EntryPoint = "GetNamedSecurityInfoW", StringMarshalling = StringMarshalling.Utf16)]
    private static partial int GetNamedSecurityInfo(string name, int type, uint information, out nint owner, out nint group, out nint dacl, out nint sacl, out nint descriptor);

    [LibraryImport("advapi32.dll", EntryPoint = "SetNamedSecurityInfoW", StringMarshalling = StringMarshalling.Utf16)]
    private static partial int SetNamedSecurityInfo(string name, int type, uint information, nint owner, nint group, nint dacl, nint sacl);

    [LibraryImport("advapi32.dll")]
    private static partial uint GetSecurityDescriptorLength(nint descriptor);

    [LibraryImport("kernel32.dll")]
    private static partial nint LocalFree(nint memory);

    [LibraryImport("kernel32.dll")]
    private static partial nint GetCurrentProcess();

    [LibraryImport("advapi32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool OpenProcessToken(nint process, uint access, out nint token);

    [LibraryImport("advapi32.dll", EntryPoint = "LookupPrivilegeValueW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool LookupPrivilegeValue(string? system, string name, out long luid);

    [LibraryImport("advapi32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool AdjustTokenPrivileges(nint token, [MarshalAs(UnmanagedType.Bool)] bool disableAll, ref byte newState, uint length, nint previousState, nint returnLength);

    [LibraryImport("kernel32.dll")]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool CloseHandle(nint handle);
}
