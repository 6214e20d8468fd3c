using Rehome.Protocol;
using Rehome.Security.Sids;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform.Windows;

/// <summary>The native seam of the user rights area's reading: LsaEnumerateAccountsWithUserRight (writes go through <see cref="ILogonRights"/>).</summary>
internal interface IUserRightsCalls
{
    /// <summary>The SIDs holding <paramref name="right"/> (none is success with an empty list); a Win32 error otherwise.</summary>
    int AccountsWithRight(string right, out IReadOnlyList<string> sids);
}

/// <summary>
/// The user rights area (the local security policy's account rights): each privilege and logon right is an item,
/// its holders the accounts LSA lists for it. A write adds the missing holders before it removes the extra ones;
/// a right the account no longer holds (2) is what was asked. A right this Windows does not know (1313) is
/// reported as not found, the others go on.
/// </summary>
internal sealed class WindowsUserRights(IUserRightsCalls calls, ILogonRights rights, IWin32Errors errors) : IHolderStore
{
    private const int FileNotFound = 2;
    private const int NoSuchPrivilege = 1313;

    /// <summary>Every privilege and logon right Windows defines (winnt.h, ntsecapi.h): LSA can list holders by right, not the rights.</summary>
    internal static readonly IReadOnlyList<string> Names =
    [
        "SeAssignPrimaryTokenPrivilege", "SeAuditPrivilege", "SeBackupPrivilege", "SeBatchLogonRight", "SeChangeNotifyPrivilege",
        "SeCreateGlobalPrivilege", "SeCreatePagefilePrivilege", "SeCreatePermanentPrivilege", "SeCreateSymbolicLinkPrivilege",
        "SeCreateTokenPrivilege", "SeDebugPrivilege", "SeDelegateSessionUserImpersonatePrivilege", "SeDenyBatchLogonRight",
        "SeDenyInteractiveLogonRight", "SeDenyNetworkLogonRight", "SeDenyRemoteInteractiveLogonRight", "SeDenyServiceLogonRight",
        "SeEnableDelegationPrivilege", "SeImpersonatePrivilege", "SeIncreaseBasePriorityPrivilege", "SeIncreaseQuotaPrivilege",
        "SeIncreaseWorkingSetPrivilege", "SeInteractiveLogonRight", "SeLoadDriverPrivilege", "SeLockMemoryPrivilege",
        "SeMachineAccountPrivilege", "SeManageVolumePrivilege", "SeNetworkLogonRight", "SeProfileSingleProcessPrivilege",
        "SeRelabelPrivilege", "SeRemoteInteractiveLogonRight", "SeRemoteShutdownPrivilege", "SeRestorePrivilege",
        "SeSecurityPrivilege", "SeServiceLogonRight", "SeShutdownPrivilege", "SeSyncAgentPrivilege", "SeSystemEnvironmentPrivilege",
        "SeSystemProfilePrivilege", "SeSystemtimePrivilege", "SeTakeOwnershipPrivilege", "SeTcbPrivilege", "SeTimeZonePrivilege",
        "SeTrustedCredManAccessPrivilege", "SeUndockPrivilege",
    ];

    [System.Runtime.Versioning.SupportedOSPlatform("windows")]
    public static OpenedArea Open() =>
        new(ReaclArea.UserRights, null, [], [], new WindowsUserRights(new NativeUserRightsCalls(), new NativeLogonRights(), NativeWin32Errors.Instance));

    public IEnumerable<string> EnumerateItems() => Names;

    public IReadOnlyList<SecurityIdentifier> ReadHolders(string item)
    {
        Check(calls.AccountsWithRight(item, out var sids), item, $"LsaEnumerateAccountsWithUserRight({item})");
        return [.. sids.Select(SecurityIdentifier.Parse)];
    }

    public int MaxHolders(string item) => int.MaxValue;

    public void WriteHolders(string item, IReadOnlyList<SecurityIdentifier> holders) => HolderChanges.Apply(ReadHolders(item), holders,
        added => Check(rights.Add(added.ToString(), item), item, $"LsaAddAccountRights({added}, {item})"),
        removed =>
        {
            var status = rights.Remove(removed.ToString(), item);
            Check(status == FileNotFound ? WindowsErrors.Success : status, item, $"LsaRemoveAccountRights({removed}, {item})");
        });

    private void Check(int status, string item, string call)
    {
        if (status != WindowsErrors.Success)
        {
            throw new SecurityStoreException(status switch
            {
                WindowsErrors.AccessDenied => SecurityStoreErrorKind.AccessDenied,
                NoSuchPrivilege => SecurityStoreErrorKind.NotFound,
                _ => SecurityStoreErrorKind.Other,
            }, item, WindowsErrors.Describe(errors, status, call));
        }
    }
}
