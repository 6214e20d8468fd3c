using System.Runtime.InteropServices;

namespace Rehome.Agent.Platform.Windows;

/// <summary>advapi32's registry calls for hives and raw values: every one answers a Win32 error (0 is success).</summary>
internal static partial class NativeMethods
{
    /// <summary>HKEY_LOCAL_MACHINE, sign-extended as Windows' headers define it.</summary>
    internal static readonly nint LocalMachineKey = unchecked((int)0x80000002);

    /// <summary>HKEY_USERS.</summary>
    internal static readonly nint UsersKey = unchecked((int)0x80000003);

    internal const uint KeyRead = 0x20019;
    internal const uint KeyAllAccess = 0xF003F;
    internal const int ErrorNoMoreItems = 259;

    [LibraryImport("advapi32.dll", EntryPoint = "RegLoadKeyW", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int RegLoadKey(nint key, string subKey, string file);

    [LibraryImport("advapi32.dll", EntryPoint = "RegUnLoadKeyW", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int RegUnLoadKey(nint key, string subKey);

    [LibraryImport("advapi32.dll", EntryPoint = "RegSaveKeyW", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int RegSaveKey(nint key, string file, nint securityAttributes);

    [LibraryImport("advapi32.dll", EntryPoint = "RegOpenKeyExW", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int RegOpenKeyEx(nint key, string subKey, uint options, uint desired, out nint result);

    [LibraryImport("advapi32.dll", EntryPoint = "RegCreateKeyExW", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int RegCreateKeyEx(nint key, string subKey, uint reserved, string? keyClass, uint options, uint desired, nint securityAttributes, out nint result, out uint disposition);

    [LibraryImport("advapi32.dll", EntryPoint = "RegEnumValueW", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int RegEnumValue(nint key, uint index, [Out] char[] name, ref uint nameLength, nint reserved, out uint type, [Out] byte[] data, ref uint dataLength);

    [LibraryImport("advapi32.dll", EntryPoint = "RegQueryValueExW", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int RegQueryValueEx(nint key, string name, nint reserved, out uint type, [Out] byte[]? data, ref uint dataLength);

    [LibraryImport("advapi32.dll", EntryPoint = "RegSetValueExW", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int RegSetValueEx(nint key, string name, uint reserved, uint type, byte[] data, uint dataLength);

    [LibraryImport("advapi32.dll", EntryPoint = "RegDeleteValueW", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int RegDeleteValue(nint key, string name);

    [LibraryImport("advapi32.dll", EntryPoint = "RegDeleteTreeW", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int RegDeleteTree(nint key, string subKey);

    [LibraryImport("advapi32.dll", EntryPoint = "RegDeleteKeyW", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int RegDeleteKey(nint key, string subKey);

    [LibraryImport("advapi32.dll", EntryPoint = "RegEnumKeyExW", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int RegEnumKeyEx(nint key, uint index, [Out] char[] name, ref uint nameLength, nint reserved, nint keyClass, nint classLength, nint lastWriteTime);

    [LibraryImport("advapi32.dll")]
    internal static partial int RegCloseKey(nint key);
}
