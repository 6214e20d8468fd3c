using System.Runtime.InteropServices;

namespace Rehome.Agent.Platform.Windows;

/// <summary>
/// netapi32 and advapi32 for local accounts: users, local group members, account names. Named apart from the
/// declarations in NativeMethods.NetApi.cs and NativeMethods.System.cs (which are converted separately).
/// </summary>
internal static partial class NativeMethods
{
    internal const int ErrorNoSuchMember = 1387;
    internal const int ErrorInsufficientBuffer = 122;
    internal const int NerrGroupNotFound = 2220;
    internal const int NerrUserNotFound = 2221;
    internal const int NerrUserExists = 2224;

    internal const uint UserPrivUser = 1;
    internal const uint UfScript = 0x0001;
    internal const uint UfNormalAccount = 0x0200;
    internal const uint UfDontExpirePasswd = 0x10000;

    /// <summary>USER_INFO_1 (lmaccess.h): what NetUserAdd level 1 needs; the strings are unmanaged UTF-16.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct UserInfo1
    {
        public nint Name;
        public nint Password;
        public uint PasswordAge;
        public uint Privilege;
        public nint HomeDirectory;
        public nint Comment;
        public uint Flags;
        public nint ScriptPath;
    }

    /// <summary>USER_INFO_1003: the new password for NetUserSetInfo level 1003.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct UserInfo1003
    {
        public nint Password;
    }

    [LibraryImport("netapi32.dll", EntryPoint = "NetApiBufferFree")]
    internal static partial int NetBufferFree(nint buffer);

    [LibraryImport("netapi32.dll", EntryPoint = "NetUserAdd", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int UserAdd(string? server, int level, in UserInfo1 info, out int parameterError);

    [LibraryImport("netapi32.dll", EntryPoint = "NetUserSetInfo", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int UserSetPassword(string? server, string userName, int level, in UserInfo1003 info, out int parameterError);

    /// <summary>Level 0 only says whether the account exists; the buffer is freed at once.</summary>
    [LibraryImport("netapi32.dll", EntryPoint = "NetUserGetInfo", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int UserGetInfo(string? server, string userName, int level, out nint buffer);

    [LibraryImport("netapi32.dll", EntryPoint = "NetUserDel", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int UserDelete(string? server, string userName);

    /// <summary>Level 0: LOCALGROUP_MEMBERS_INFO_0, one SID pointer per member.</summary>
    [LibraryImport("netapi32.dll", EntryPoint = "NetLocalGroupGetMembers", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int LocalGroupGetMembers(string? server, string groupName, int level, out nint buffer, int preferredMaximumLength, out int entriesRead, out int totalEntries, ref nint resumeHandle);

    /// <summary>Level 0: <paramref name="members"/> is an array of LOCALGROUP_MEMBERS_INFO_0 (one SID pointer each).</summary>
    [LibraryImport("netapi32.dll", EntryPoint = "NetLocalGroupAddMembers", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int LocalGroupAddMembers(string? server, string groupName, int level, in nint members, int totalEntries);

    [LibraryImport("netapi32.dll", EntryPoint = "NetLocalGroupDelMembers", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int LocalGroupDeleteMembers(string? server, string groupName, int level, in nint members, int totalEntries);

    [LibraryImport("advapi32.dll", EntryPoint = "LookupAccountSidW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool AccountNameOfSid(string? systemName, byte[] sid, [Out] char[]? name, ref int nameLength, [Out] char[]? domainName, ref int domainNameLength, out int use);

    [LibraryImport("advapi32.dll", EntryPoint = "LookupAccountNameW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool SidOfAccountName(string? systemName, string accountName, [Out] byte[]? sid, ref int sidLength, [Out] char[]? domainName, ref int domainNameLength, out int use);
}
