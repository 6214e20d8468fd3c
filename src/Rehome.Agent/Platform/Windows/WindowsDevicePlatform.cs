using System.Management;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Security.Principal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32;
using Rehome.Agent.Jobs;
using Rehome.Protocol;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform.Windows;

/// <summary>
/// The device the agent's service runs on: join state and joins through netapi32 and dsregcmd, restarts through
/// InitiateShutdown, local Administrators through the NetLocalGroup calls, profiles in the ProfileList registry key,
/// hardware identity through WMI. The service runs as LocalSystem; docs/windows.md lists what each call needs.
/// Joins are offline only: the device never holds credentials of the destination.
/// </summary>
[SupportedOSPlatform("windows")]
public sealed class WindowsDevicePlatform : IDevicePlatform
{
    private const string ProfileListPath = @"SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList";
    private const string CurrentVersionPath = @"SOFTWARE\Microsoft\Windows NT\CurrentVersion";
    private const string AdministratorsSid = "S-1-5-32-544";
    private const int ErrorShutdownInProgress = 1115;
    private const int ErrorShutdownIsScheduled = 1190;
    private const uint RestartGraceSeconds = 30;

    private readonly WindowsJoinStaging staging;
    private readonly ILogger logger;
    private readonly Lazy<ISecurityStore> securityStore = new(() => new WindowsPathSecurityStore(new WindowsSecurityStore(includeSacl: true)));

    /// <param name="logger">Where the platform says what it did (no secrets).</param>
    /// <param name="stagingFolder">Where prepared join data waits; <c>%ProgramData%\Rehome\staging</c> by default.</param>
    public WindowsDevicePlatform(ILogger? logger = null, string? stagingFolder = null)
    {
        this.logger = logger ?? NullLogger.Instance;
        staging = new WindowsJoinStaging(stagingFolder ?? WindowsJoinStaging.DefaultFolder);
    }

    public long BootCount => WindowsBootCounter.Current;

    /// <summary>Created at first use: it enables the backup, restore, security and take-ownership privileges.</summary>
    public ISecurityStore SecurityStore => securityStore.Value;

    public DeviceFacts ReadFacts(string agentVersion)
    {
        var membership = WindowsMembership.Read();
        return new DeviceFacts
        {
            DeviceName = membership.ComputerName,
            OsVersion = DescribeOperatingSystem(),
            AgentVersion = agentVersion,
            JoinType = membership.JoinType,
            DomainName = membership.DomainName,
            TenantId = membership.TenantId,
            EntraDeviceId = membership.EntraDeviceId,
            LoggedOnUsers = TerminalSessions.LoggedOnUsers(),
            ProfileSids = [.. ReadProfiles().Select(p => p.Sid)],
            FreeDiskSpaceBytes = new DriveInfo(Path.GetPathRoot(Environment.SystemDirectory)!).AvailableFreeSpace,
        };
    }

    public Task<DeviceMembership> GetMembershipAsync(CancellationToken ct) => Task.FromResult(WindowsMembership.Read());

    public Task PrepareJoinAsync(DestinationJoin join, CancellationToken ct)
    {
        RefuseOnlineJoin(join);
        var data = DecodeProvisioningData(join);
        if (join.Kind == JoinKind.EntraId)
        {
            staging.StagePackage(data);
            logger.LogInformation("Staged the provisioning package for tenant {TenantId} ({Bytes} bytes)", join.TenantId, data.Length);
        }
        else
        {
            staging.StageOfflineJoin(data);
            logger.LogInformation("Staged the offline join to {Domain} as {ComputerName}", join.DomainDnsName, join.ComputerName);
            WarnWhenNoDomainController(join.DomainDnsName);
        }

        return Task.CompletedTask;
    }

    public async Task LeaveSourceAsync(DeviceMembership source, bool keepCachedCredentials, CancellationToken ct)
    {
        var now = WindowsMembership.Read();
        await LeaveAsync(now, ct);
        // Cached domain logons stay in the LSA cache either way; once unjoined, Windows no longer accepts them.
        logger.LogInformation("Left {Domain}{Tenant} (was {JoinType}); cached credentials requested kept: {Keep}", now.DomainName, now.TenantId, now.JoinType, keepCachedCredentials);
    }

    public async Task JoinDestinationAsync(DestinationJoin join, CancellationToken ct)
    {
        if (staging.WasApplied(join))
        {
            logger.LogInformation("The destination join is already applied; it completes at the next restart");
            return;
        }

        RefuseOnlineJoin(join);
        if (join.Kind == JoinKind.EntraId)
        {
            if (!staging.HasPackage)
            {
                throw NotPrepared();
            }

            Rename(join.ComputerName);
            var path = staging.PackagePath.Replace("'", "''", StringComparison.Ordinal);
            await SystemCommand.RunAsync(
                SystemCommand.PowerShell,
                ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-Command", $"Install-ProvisioningPackage -PackagePath '{path}' -ForceInstall -QuietInstall"],
                ct);
            logger.LogInformation("Installed the provisioning package of tenant {TenantId}", join.TenantId);
        }
        else
        {
            var data = staging.ReadOfflineJoin() ?? throw NotPrepared();
            // The blob names the computer account, so the computer takes the destination name from it at the restart.
            var windows = Environment.GetFolderPath(Environment.SpecialFolder.Windows);
            NativeMethods.Check(
                NativeMethods.NetRequestOfflineDomainJoin(data, (uint)data.Length, NativeMethods.NetSetupProvisionOnlineCaller, windows),
                "NetRequestOfflineDomainJoin");
            logger.LogInformation("Applied the offline join to {Domain} as {ComputerName}; it completes at the next restart", join.DomainDnsName, join.ComputerName);
        }

        staging.MarkApplied(join);
    }

    /// <summary>
    /// Withdraws the destination and takes back the source name. Back to a workgroup is complete; back into a source
    /// domain or tenant is not possible from the device (its secure channel secret or device key is gone), so the step
    /// fails with what an administrator does.
    /// </summary>
    public async Task RestoreMembershipAsync(DeviceMembership previous, CancellationToken ct)
    {
        staging.Reset();
        var now = WindowsMembership.Read();
        if (now.JoinType == previous.JoinType && SameName(now.DomainName, previous.DomainName) && SameName(now.TenantId, previous.TenantId))
        {
            Rename(previous.ComputerName);
            return;
        }

        await LeaveAsync(now, ct);
        Rename(previous.ComputerName);
        if (previous.JoinType == DeviceJoinType.Workgroup)
        {
            logger.LogInformation("Back in a workgroup as {ComputerName} after the restart", previous.ComputerName);
            return;
        }

        var where = previous.JoinType == DeviceJoinType.EntraId ? $"tenant {previous.TenantId}" : $"domain {previous.DomainName}";
        throw new StepFailedException(
            "RestoreNeedsAdministrator",
            $"The device left the destination and is in a workgroup as {previous.ComputerName}, but it cannot rejoin {where} by itself: "
            + "an administrator joins it again (its computer account was left enabled, so an offline join blob from the source "
            + "or a join with source credentials reuses it; an Entra ID device registers again with a provisioning package or by a user).");
    }

    public Task RestartAsync(string reason, CancellationToken ct)
    {
        ProcessPrivileges.Enable("SeShutdownPrivilege");
        var status = NativeMethods.InitiateShutdown(
            null,
            reason,
            RestartGraceSeconds,
            NativeMethods.ShutdownRestart | NativeMethods.ShutdownForceOthers,
            NativeMethods.ShutdownReasonPlannedReconfiguration);
        if (status is not (NativeMethods.Success or ErrorShutdownInProgress or ErrorShutdownIsScheduled))
        {
            throw NativeMethods.Failure(status, "InitiateShutdown");
        }

        logger.LogInformation("Restarting in {Seconds} s: {Reason}", RestartGraceSeconds, reason);
        throw new DeviceRestartingException(reason);
    }

    public Task<IReadOnlyList<string>> GetLocalAdministratorsAsync(CancellationToken ct)
    {
        var group = AdministratorsGroupName();
        var members = new List<string>();
        nint resume = 0;
        int status;
        do
        {
            status = NativeMethods.NetLocalGroupGetMembers(null, group, 0, out var buffer, NativeMethods.MaxPreferredLength, out var read, out _, ref resume);
            using (buffer)
            {
                if (status is not (NativeMethods.Success or NativeMethods.ErrorMoreData))
                {
                    throw NativeMethods.Failure(status, $"NetLocalGroupGetMembers({group})");
                }

                // LOCALGROUP_MEMBERS_INFO_0 is one SID pointer.
                var start = buffer.DangerousGetHandle();
                for (var i = 0; i < read; i++)
                {
                    members.Add(new SecurityIdentifier(Marshal.ReadIntPtr(start, i * nint.Size)).Value);
                }
            }
        }
        while (status == NativeMethods.ErrorMoreData);

        return Task.FromResult<IReadOnlyList<string>>(members);
    }

    public Task AddLocalAdministratorAsync(string sid, CancellationToken ct)
    {
        ChangeAdministrators(sid, add: true);
        return Task.CompletedTask;
    }

    public Task RemoveLocalAdministratorAsync(string sid, CancellationToken ct)
    {
        ChangeAdministrators(sid, add: false);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<UserProfile>> GetProfilesAsync(CancellationToken ct) => Task.FromResult(ReadProfiles());

    private static IReadOnlyList<UserProfile> ReadProfiles()
    {
        using var profileList = Registry.LocalMachine.OpenSubKey(ProfileListPath)
            ?? throw new InvalidOperationException($@"HKLM\{ProfileListPath} is missing.");
        var profiles = new List<UserProfile>();
        foreach (var name in profileList.GetSubKeyNames())
        {
            // Skips leftovers such as "<sid>.bak", which are not profiles Windows loads.
            if (!IsSid(name))
            {
                continue;
            }

            using var profile = profileList.OpenSubKey(name);
            if (profile?.GetValue("ProfileImagePath") is string path)
            {
                profiles.Add(new UserProfile(name, path));
            }
        }

        return profiles;
    }

    public Task SetProfileAsync(string sid, string profileImagePath, CancellationToken ct)
    {
        var identifier = new SecurityIdentifier(sid);
        var binary = new byte[identifier.BinaryLength];
        identifier.GetBinaryForm(binary, 0);
        using var profile = Registry.LocalMachine.CreateSubKey($@"{ProfileListPath}\{identifier.Value}", writable: true);
        profile.SetValue("ProfileImagePath", profileImagePath, RegistryValueKind.ExpandString);
        profile.SetValue("Sid", binary, RegistryValueKind.Binary);
        // A new entry gets the values Windows expects of a profile that is not loaded; existing ones keep theirs.
        if (profile.GetValue("Flags") is null)
        {
            profile.SetValue("Flags", 0, RegistryValueKind.DWord);
        }
        if (profile.GetValue("State") is null)
        {
            profile.SetValue("State", 0, RegistryValueKind.DWord);
        }

        return Task.CompletedTask;
    }

    public Task RemoveProfileAsync(string sid, CancellationToken ct)
    {
        using var profileList = Registry.LocalMachine.OpenSubKey(ProfileListPath, writable: true);
        profileList?.DeleteSubKeyTree(new SecurityIdentifier(sid).Value, throwOnMissingSubKey: false);
        return Task.CompletedTask;
    }

    public Task<HardwareIdentity> GetHardwareIdentityAsync(CancellationToken ct) => Task.Run(() =>
    {
        var serial = QueryFirst(@"root\cimv2", "SELECT SerialNumber FROM Win32_BIOS", "SerialNumber");
        var hash = QueryFirst(@"root\cimv2\mdm\dmmap", "SELECT DeviceHardwareData FROM MDM_DevDetail_Ext01 WHERE InstanceID='Ext' AND ParentID='./DevDetail'", "DeviceHardwareData");
        if (string.IsNullOrWhiteSpace(hash))
        {
            throw new StepFailedException("NoHardwareHash", "Windows reports no Autopilot hardware hash (MDM_DevDetail_Ext01.DeviceHardwareData).");
        }

        return new HardwareIdentity(serial?.Trim() ?? "", hash);
    }, ct);

    private static void RefuseOnlineJoin(DestinationJoin join)
    {
        if (!join.Offline)
        {
            throw new StepFailedException(
                "OnlineJoinNotSupported",
                $"An online join to {join.DomainDnsName ?? join.TenantId} needs destination credentials on the device, which Rehome never sends. "
                + "Set the mapping to an offline rejoin: the server then provisions the computer account (or the provisioning package) itself.");
        }
    }

    private static byte[] DecodeProvisioningData(DestinationJoin join)
    {
        var text = join.ProvisioningData?.Trim();
        var buffer = new byte[text?.Length ?? 0];
        if (string.IsNullOrEmpty(text) || !Convert.TryFromBase64String(text, buffer, out var length) || length == 0)
        {
            throw new StepFailedException("NoOfflineJoinData", "The server sent no readable offline join data for this device.");
        }

        return buffer[..length];
    }

    private static StepFailedException NotPrepared() =>
        new("JoinNotPrepared", "The destination join was not prepared on this device (nothing is staged).");

    private static bool SameName(string? a, string? b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private static bool IsSid(string name)
    {
        try
        {
            _ = new SecurityIdentifier(name);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string DescribeOperatingSystem()
    {
        var version = Environment.OSVersion.Version;
        using var current = Registry.LocalMachine.OpenSubKey(CurrentVersionPath);
        var revision = current?.GetValue("UBR") is int ubr ? ubr : version.Revision;
        var release = current?.GetValue("DisplayVersion") as string;
        var edition = current?.GetValue("EditionID") as string;
        return $"Windows {version.Major}.{version.Minor}.{version.Build}.{revision}"
            + (release is null ? "" : $" {release}") + (edition is null ? "" : $" {edition}");
    }

    /// <summary>The local name of BUILTIN\Administrators (localised: "Administratoren", "Administrateurs" …).</summary>
    private static string AdministratorsGroupName()
    {
        var sid = new SecurityIdentifier(AdministratorsSid);
        var binary = new byte[sid.BinaryLength];
        sid.GetBinaryForm(binary, 0);
        int nameLength = 0, domainLength = 0;
        _ = NativeMethods.LookupAccountSid(null, binary, null, ref nameLength, null, ref domainLength, out _);
        var name = new char[nameLength];
        var domain = new char[domainLength];
        if (!NativeMethods.LookupAccountSid(null, binary, name, ref nameLength, domain, ref domainLength, out _))
        {
            throw NativeMethods.Failure(Marshal.GetLastPInvokeError(), $"LookupAccountSid({AdministratorsSid})");
        }

        return new string(name, 0, nameLength);
    }

    /// <summary>Adds or removes one member (by SID) of the local Administrators; already so is success.</summary>
    private static void ChangeAdministrators(string sid, bool add)
    {
        var group = AdministratorsGroupName();
        var identifier = new SecurityIdentifier(sid);
        var binary = new byte[identifier.BinaryLength];
        identifier.GetBinaryForm(binary, 0);
        var handle = GCHandle.Alloc(binary, GCHandleType.Pinned);
        int status;
        try
        {
            // LOCALGROUP_MEMBERS_INFO_0: one pointer to the binary SID.
            var member = handle.AddrOfPinnedObject();
            status = add
                ? NativeMethods.NetLocalGroupAddMembers(null, group, 0, ref member, 1)
                : NativeMethods.NetLocalGroupDelMembers(null, group, 0, ref member, 1);
        }
        finally
        {
            handle.Free();
        }

        var alreadySo = add ? NativeMethods.ErrorMemberInAlias : NativeMethods.ErrorMemberNotInAlias;
        if (status != NativeMethods.Success && status != alreadySo)
        {
            throw NativeMethods.Failure(status, $"{(add ? "NetLocalGroupAddMembers" : "NetLocalGroupDelMembers")}({group}, {sid})");
        }
    }

    private static string? QueryFirst(string scope, string query, string property)
    {
        using var searcher = new ManagementObjectSearcher(scope, query);
        using var results = searcher.Get();
        foreach (var item in results)
        {
            using (item)
            {
                return item[property] as string;
            }
        }

        return null;
    }

    /// <summary>Leaves the Entra ID join (dsregcmd /leave) and the domain (NetUnjoinDomain), whichever apply.</summary>
    private async Task LeaveAsync(DeviceMembership now, CancellationToken ct)
    {
        if (now.JoinType is DeviceJoinType.EntraId or DeviceJoinType.HybridEntraId)
        {
            await SystemCommand.RunAsync(SystemCommand.System32("dsregcmd.exe"), ["/leave"], ct);
            logger.LogInformation("Left Entra ID tenant {TenantId}", now.TenantId);
        }

        if (now.JoinType is DeviceJoinType.ActiveDirectory or DeviceJoinType.HybridEntraId)
        {
            // No NETSETUP_ACCT_DELETE: the computer account stays enabled in the domain, so going back stays possible.
            var status = NativeMethods.NetUnjoinDomain(null, null, null, 0);
            if (status is not (NativeMethods.Success or NativeMethods.NerrSetupNotJoined))
            {
                throw NativeMethods.Failure(status, $"NetUnjoinDomain({now.DomainName})");
            }

            logger.LogInformation("Left domain {Domain}; the device is in a workgroup after the restart", now.DomainName);
        }
    }

    /// <summary>Sets the name the computer takes at the next restart (no domain account to rename: it is not joined).</summary>
    private void Rename(string computerName)
    {
        if (SameName(Environment.MachineName, computerName))
        {
            return;
        }

        if (!NativeMethods.SetComputerNameEx(NativeMethods.ComputerNamePhysicalDnsHostname, computerName))
        {
            throw NativeMethods.Failure(Marshal.GetLastPInvokeError(), $"SetComputerNameEx({computerName})");
        }

        logger.LogInformation("The computer is named {ComputerName} after the restart", computerName);
    }

    /// <summary>An offline join needs no domain controller now, but the first sign-in after the restart does.</summary>
    private void WarnWhenNoDomainController(string? domain)
    {
        if (string.IsNullOrEmpty(domain))
        {
            return;
        }

        var status = NativeMethods.DsGetDcName(null, domain, 0, null, NativeMethods.DsDirectoryServiceRequired | NativeMethods.DsIsDnsName | NativeMethods.DsReturnDnsName, out var info);
        using (info)
        {
            if (status != NativeMethods.Success)
            {
                logger.LogWarning("No domain controller of {Domain} answers now (DsGetDcName error {Status}); the offline join still applies, and users sign in once one is reachable", domain, status);
                return;
            }

            var controller = Marshal.PtrToStructure<NativeMethods.DomainControllerInfo>(info.DangerousGetHandle());
            logger.LogInformation("Domain controller {Controller} of {Domain} answers", Marshal.PtrToStringUni(controller.DomainControllerName), domain);
        }
    }
}
