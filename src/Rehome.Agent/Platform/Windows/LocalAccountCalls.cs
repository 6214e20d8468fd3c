using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Security.Principal;

namespace Rehome.Agent.Platform.Windows;

/// <summary>
/// The native seam of <see cref="WindowsLocalAccounts"/>: netapi32's users and local groups, advapi32's account
/// names. Each member answers with the status Windows gave (0 is success; a Win32 error or NET_API_STATUS otherwise).
/// </summary>
internal interface ILocalAccountCalls
{
    /// <summary>LookupAccountSidW on this computer: the account's name (a local group's localised name).</summary>
    int NameOfSid(string sid, out string? name);

    /// <summary>LookupAccountNameW on this computer.</summary>
    int SidOfName(string accountName, out string? sid);

    /// <summary>NetLocalGroupGetMembers level 0, every page.</summary>
    int GetGroupMembers(string group, out IReadOnlyList<string> sids);

    /// <summary>NetLocalGroupAddMembers level 0 (by SID).</summary>
    int AddGroupMember(string group, string sid);

    /// <summary>NetLocalGroupDelMembers level 0 (by SID).</summary>
    int RemoveGroupMember(string group, string sid);

    /// <summary>NetUserGetInfo level 0: 0 when the local account exists, NERR_UserNotFound when not.</summary>
    int FindUser(string userName);

    /// <summary>NetUserAdd level 1: a normal account whose password does not expire.</summary>
    int AddUser(string userName, string password, string comment);

    /// <summary>NetUserSetInfo level 1003.</summary>
    int SetPassword(string userName, string password);

    /// <summary>NetUserDel.</summary>
    int DeleteUser(string userName);
}

/// <summary>The real calls: marshalling only, and passwords in unmanaged memory that is zeroed when freed.</summary>
[SupportedOSPlatform("windows")]
internal sealed class NativeLocalAccountCalls : ILocalAccountCalls
{
    public int NameOfSid(string sid, out string? name) => AccountOfSid(sid, out name, out _);

    /// <summary>LookupAccountSidW on this computer: the account's name and its domain's.</summary>
    internal static int AccountOfSid(string sid, out string? name, out string? domain)
    {
        name = domain = null;
        var binary = Binary(sid);
        int nameLength = 0, domainLength = 0;
        _ = NativeMethods.AccountNameOfSid(null, binary, null, ref nameLength, null, ref domainLength, out _);
        var error = Marshal.GetLastPInvokeError();
        if (error != NativeMethods.ErrorInsufficientBuffer)
        {
            return error == NativeMethods.Success ? NativeMethods.ErrorInsufficientBuffer : error;
        }

        var nameBuffer = new char[nameLength];
        var domainBuffer = new char[domainLength];
        if (!NativeMethods.AccountNameOfSid(null, binary, nameBuffer, ref nameLength, domainBuffer, ref domainLength, out _))
        {
            return Marshal.GetLastPInvokeError();
        }

        name = new string(nameBuffer, 0, nameLength);
        domain = new string(domainBuffer, 0, domainLength);
        return NativeMethods.Success;
    }

    public int SidOfName(string accountName, out string? sid)
    {
        sid = null;
        int sidLength = 0, domainLength = 0;
        _ = NativeMethods.SidOfAccountName(null, accountName, null, ref sidLength, null, ref domainLength, out _);
        var error = Marshal.GetLastPInvokeError();
        if (error != NativeMethods.ErrorInsufficientBuffer)
        {
            return error == NativeMethods.Success ? NativeMethods.ErrorInsufficientBuffer : error;
        }

        var sidBuffer = new byte[sidLength];
        var domainBuffer = new char[domainLength];
        if (!NativeMethods.SidOfAccountName(null, accountName, sidBuffer, ref sidLength, domainBuffer, ref domainLength, out _))
        {
            return Marshal.GetLastPInvokeError();
        }

        sid = new SecurityIdentifier(sidBuffer, 0).Value;
        return NativeMethods.Success;
    }

    public int GetGroupMembers(string group, out IReadOnlyList<string> sids)
    {
        var members = new List<string>();
        sids = members;
        nint resume = 0;
        int status;
        do
        {
            status = NativeMethods.LocalGroupGetMembers(null, group, 0, out var buffer, NativeMethods.MaxPreferredLength, out var read, out _, ref resume);
            try
            {
                if (status is not (NativeMethods.Success or NativeMethods.ErrorMoreData))
                {
                    return status;
                }

                for (var i = 0; i < read; i++)
                {
                    members.Add(new SecurityIdentifier(Marshal.ReadIntPtr(buffer, i * nint.Size)).Value);
                }
            }
            finally
            {
                // Only an answer with members wrote the buffer (LibraryImport does not zero an out value).
                if (status is NativeMethods.Success or NativeMethods.ErrorMoreData && buffer != 0)
                {
                    _ = NativeMethods.NetBufferFree(buffer);
                }
            }
        }
        while (status == NativeMethods.ErrorMoreData);

        return NativeMethods.Success;
    }

    public int AddGroupMember(string group, string sid) => WithSid(sid, member => NativeMethods.LocalGroupAddMembers(null, group, 0, member, 1));

    public int RemoveGroupMember(string group, string sid) => WithSid(sid, member => NativeMethods.LocalGroupDeleteMembers(null, group, 0, member, 1));

    public int FindUser(string userName)
    {
        var status = NativeMethods.UserGetInfo(null, userName, 0, out var buffer);
        if (buffer != 0)
        {
            _ = NativeMethods.NetBufferFree(buffer);
        }

        return status;
    }

    public int AddUser(string userName, string password, string comment)
    {
        var name = Marshal.StringToHGlobalUni(userName);
        var secret = Marshal.StringToHGlobalUni(password);
        var remark = Marshal.StringToHGlobalUni(comment);
        try
        {
            var info = new NativeMethods.UserInfo1
            {
                Name = name,
                Password = secret,
                Privilege = NativeMethods.UserPrivUser,
                Comment = remark,
                Flags = NativeMethods.UfScript | NativeMethods.UfNormalAccount | NativeMethods.UfDontExpirePasswd,
            };
            return NativeMethods.UserAdd(null, 1, info, out _);
        }
        finally
        {
            Marshal.ZeroFreeGlobalAllocUnicode(secret);
            Marshal.FreeHGlobal(name);
            Marshal.FreeHGlobal(remark);
        }
    }

    public int SetPassword(string userName, string password)
    {
        var secret = Marshal.StringToHGlobalUni(password);
        try
        {
            return NativeMethods.UserSetPassword(null, userName, 1003, new NativeMethods.UserInfo1003 { Password = secret }, out _);
        }
        finally
        {
            Marshal.ZeroFreeGlobalAllocUnicode(secret);
        }
    }

    public int DeleteUser(string userName) => NativeMethods.UserDelete(null, userName);

    /// <summary>The binary form of <paramref name="sid"/> that Win32 takes as a PSID.</summary>
    internal static byte[] Binary(string sid)
    {
        var identifier = new SecurityIdentifier(sid);
        var binary = new byte[identifier.BinaryLength];
        identifier.GetBinaryForm(binary, 0);
        return binary;
    }

    /// <summary>Calls <paramref name="call"/> with a LOCALGROUP_MEMBERS_INFO_0 pointing at the pinned binary SID.</summary>
    private static int WithSid(string sid, Func<nint, int> call)
    {
        var handle = GCHandle.Alloc(Binary(sid), GCHandleType.Pinned);
        try
        {
            return call(handle.AddrOfPinnedObject());
        }
        finally
        {
            handle.Free();
        }
    }
}
