using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Rehome.Security.Stores;

/// <summary>The real <see cref="IWindowsSecurityCalls"/>: marshalling only, every decision is in the store.</summary>
[SupportedOSPlatform("windows")]
internal sealed partial class NativeWindowsSecurityCalls : IWindowsSecurityCalls
{
    private const uint PrivilegeEnabled = 0x2;
    private const uint AdjustPrivileges = 0x20;
    private const uint QueryToken = 0x8;
    private const int NotAllAssigned = 1300;
    private const uint ShareAll = 0x1 | 0x2 | 0x4; // FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE
    private const uint OpenExisting = 3;
    private const uint InvalidFileAttributes = 0xFFFFFFFF;
    private const int FindExInfoBasic = 1;
    private const uint FindFirstExLargeFetch = 2;
    private const int NoMoreFiles = 18;
    private const int NoMoreItems = 259;

    // WIN32_FIND_DATAW: attributes at 0, three FILETIMEs, size high/low, two reserved words, then cFileName[260]
    // at 44 and cAlternateFileName[14]: 592 bytes.
    private const int FindDataLength = 592;
    private const int FindDataNameOffset = 44;

    public int EnablePrivilege(string privilege)
    {
        if (!OpenProcessToken(GetCurrentProcess(), AdjustPrivileges | QueryToken, out var token))
        {
            return Marshal.GetLastPInvokeError();
        }

        try
        {
            if (!LookupPrivilegeValue(null, privilege, out var luid))
            {
                return Marshal.GetLastPInvokeError();
            }

            Span<byte> state = stackalloc byte[16];
            BinaryPrimitives.WriteUInt32LittleEndian(state, 1);
            BinaryPrimitives.WriteInt64LittleEndian(state[4..], luid);
            BinaryPrimitives.WriteUInt32LittleEndian(state[12..], PrivilegeEnabled);
            var adjusted = AdjustTokenPrivileges(token, false, ref MemoryMarshal.GetReference(state), 0, 0, 0);
            var error = Marshal.GetLastPInvokeError();
            return !adjusted ? error : error == NotAllAssigned ? NotAllAssigned : 0;
        }
        finally
        {
            CloseHandleNative(token);
        }
    }

    public int GetFileAttributes(string path, out uint attributes)
    {
        attributes = GetFileAttributesNative(path);
        return attributes == InvalidFileAttributes ? Marshal.GetLastPInvokeError() : 0;
    }

    public int CreateFile(string path, uint access, uint flags, out nint handle)
    {
        handle = CreateFileNative(path, access, ShareAll, 0, OpenExisting, flags, 0);
        return handle == -1 ? Marshal.GetLastPInvokeError() : 0;
    }

    public int GetKernelObjectSecurity(nint handle, uint information, byte[] buffer, out int needed)
    {
        var ok = GetKernelObjectSecurityNative(handle, information, ref buffer[0], (uint)buffer.Length, out var length);
        needed = (int)length;
        return ok ? 0 : Marshal.GetLastPInvokeError();
    }

    public int SetKernelObjectSecurity(nint handle, uint information, ReadOnlySpan<byte> descriptor) =>
        SetKernelObjectSecurityNative(handle, information, ref MemoryMarshal.GetReference(descriptor)) ? 0 : Marshal.GetLastPInvokeError();

    public int CloseHandle(nint handle) => CloseHandleNative(handle) ? 0 : Marshal.GetLastPInvokeError();

    public int FindFiles(string pattern, List<(string Name, uint Attributes)> entries)
    {
        var data = new byte[FindDataLength];
        var find = FindFirstFileEx(pattern, FindExInfoBasic, ref data[0], 0, 0, FindFirstExLargeFetch);
        if (find == -1)
        {
            return Marshal.GetLastPInvokeError();
        }

        try
        {
            while (true)
            {
                var name = MemoryMarshal.Cast<byte, char>(data.AsSpan(FindDataNameOffset, 520));
                var end = name.IndexOf('\0');
                entries.Add((new string(end < 0 ? name : name[..end]), BinaryPrimitives.ReadUInt32LittleEndian(data)));
                if (!FindNextFile(find, ref data[0]))
                {
                    var error = Marshal.GetLastPInvokeError();
                    return error == NoMoreFiles ? 0 : error;
                }
            }
        }
        finally
        {
            FindClose(find);
        }
    }

    public int RegOpenKey(nint root, string subKey, uint options, uint access, out nint key) =>
        RegOpenKeyEx(root, subKey, options, access, out key);

    public int RegGetKeySecurity(nint key, uint information, byte[] buffer, out int needed)
    {
        var length = (uint)buffer.Length;
        var error = RegGetKeySecurityNative(key, information, ref buffer[0], ref length);
        needed = (int)length;
        return error;
    }

    public int RegSetKeySecurity(nint key, uint information, ReadOnlySpan<byte> descriptor) =>
        RegSetKeySecurityNative(key, information, ref MemoryMarshal.GetReference(descriptor));

    public int RegEnumKeys(nint key, List<string> names)
    {
        var name = new char[256]; // key names hold at most 255 characters
        for (uint index = 0; ; index++)
        {
            var length = (uint)name.Length;
            var error = RegEnumKeyEx(key, index, ref name[0], ref length, 0, 0, 0, 0);
            if (error == NoMoreItems)
            {
                return 0;
            }

            if (error != 0)
            {
                return error;
            }

            names.Add(new string(name, 0, (int)length));
        }
    }

    public int RegCloseKey(nint key) => RegCloseKeyNative(key);

    [LibraryImport("kernel32.dll", EntryPoint = "GetFileAttributesW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    private static partial uint GetFileAttributesNative(string path);

    [LibraryImport("kernel32.dll", EntryPoint = "CreateFileW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    private static partial nint CreateFileNative(string path, uint access, uint share, nint security, uint creation, uint flags, nint template);

    [LibraryImport("advapi32.dll", EntryPoint = "GetKernelObjectSecurity", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool GetKernelObjectSecurityNative(nint handle, uint information, ref byte descriptor, uint length, out uint needed);

    [LibraryImport("advapi32.dll", EntryPoint = "SetKernelObjectSecurity", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool SetKernelObjectSecurityNative(nint handle, uint information, ref byte descriptor);

    [LibraryImport("kernel32.dll", EntryPoint = "FindFirstFileExW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    private static partial nint FindFirstFileEx(string pattern, int infoLevel, ref byte data, int searchOperation, nint filter, uint flags);

    [LibraryImport("kernel32.dll", EntryPoint = "FindNextFileW", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool FindNextFile(nint find, ref byte data);

    [LibraryImport("kernel32.dll")]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool FindClose(nint find);

    [LibraryImport("advapi32.dll", EntryPoint = "RegOpenKeyExW", StringMarshalling = StringMarshalling.Utf16)]
    private static partial int RegOpenKeyEx(nint root, string subKey, uint options, uint access, out nint key);

    [LibraryImport("advapi32.dll", EntryPoint = "RegGetKeySecurity")]
    private static partial int RegGetKeySecurityNative(nint key, uint information, ref byte descriptor, ref uint length);

    [LibraryImport("advapi32.dll", EntryPoint = "RegSetKeySecurity")]
    private static partial int RegSetKeySecurityNative(nint key, uint information, ref byte descriptor);

    [LibraryImport("advapi32.dll", EntryPoint = "RegEnumKeyExW", StringMarshalling = StringMarshalling.Utf16)]
    private static partial int RegEnumKeyEx(nint key, uint index, ref char name, ref uint nameLength, nint reserved, nint className, nint classLength, nint lastWrite);

    [LibraryImport("advapi32.dll", EntryPoint = "RegCloseKey")]
    private static partial int RegCloseKeyNative(nint key);

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

    [LibraryImport("kernel32.dll", EntryPoint = "CloseHandle", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool CloseHandleNative(nint handle);
}
