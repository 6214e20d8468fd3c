namespace Rehome.Security.Stores;

/// <summary>
/// The thin native seam under <see cref="WindowsSecurityStore"/>: one member per Windows call (group), each answering
/// with the Win32 error code Windows gave (0 is success). Which paths, access rights, flags and options are used, how
/// a buffer grows and how errors map are decided above it, and run on any OS against a fake; the real implementation
/// (<see cref="NativeWindowsSecurityCalls"/>) only marshals.
/// </summary>
public interface IWindowsSecurityCalls
{
    /// <summary>OpenProcessToken + LookupPrivilegeValueW + AdjustTokenPrivileges (1300 when the token lacks it).</summary>
    int EnablePrivilege(string privilege);

    /// <summary>GetFileAttributesW (the attributes of a reparse point itself, not of its target).</summary>
    int GetFileAttributes(string path, out uint attributes);

    /// <summary>CreateFileW(path, access, read/write/delete sharing, OPEN_EXISTING, flags).</summary>
    int CreateFile(string path, uint access, uint flags, out nint handle);

    /// <summary>GetKernelObjectSecurity into <paramref name="buffer"/>; <paramref name="needed"/> is the descriptor's length.</summary>
    int GetKernelObjectSecurity(nint handle, uint information, byte[] buffer, out int needed);

    /// <summary>SetKernelObjectSecurity: the descriptor as given, inheritance not propagated to children.</summary>
    int SetKernelObjectSecurity(nint handle, uint information, ReadOnlySpan<byte> descriptor);

    /// <summary>CloseHandle.</summary>
    int CloseHandle(nint handle);

    /// <summary>
    /// FindFirstFileExW(<paramref name="pattern"/>, FindExInfoBasic, large fetch) and FindNextFileW to the end: every
    /// entry's name (".", ".." included, as Windows gives them) and attributes.
    /// </summary>
    int FindFiles(string pattern, List<(string Name, uint Attributes)> entries);

    /// <summary>RegOpenKeyExW(root, subKey, options, access).</summary>
    int RegOpenKey(nint root, string subKey, uint options, uint access, out nint key);

    /// <summary>RegGetKeySecurity into <paramref name="buffer"/>; <paramref name="needed"/> is the descriptor's length.</summary>
    int RegGetKeySecurity(nint key, uint information, byte[] buffer, out int needed);

    /// <summary>RegSetKeySecurity.</summary>
    int RegSetKeySecurity(nint key, uint information, ReadOnlySpan<byte> descriptor);

    /// <summary>RegEnumKeyExW from index 0 to ERROR_NO_MORE_ITEMS: the subkeys' names.</summary>
    int RegEnumKeys(nint key, List<string> names);

    /// <summary>RegCloseKey.</summary>
    int RegCloseKey(nint key);
}
