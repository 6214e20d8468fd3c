using System.Text;
using Rehome.Agent.Jobs;
using Rehome.Protocol;

namespace Rehome.Agent.Platform.Windows;

/// <summary>Option flags of the netapi32 join calls (lmjoin.h, dsgetdc.h) and the secure channel query (lmaccess.h).</summary>
internal static class NetSetupOptions
{
    public const uint JoinDomain = 0x00000001;
    public const uint DomainJoinIfJoined = 0x00000020;
    public const uint JoinUnsecure = 0x00000040;
    public const uint MachinePasswordPassed = 0x00000080;
    public const uint JoinWithNewName = 0x00000400;

    /// <summary>NETSETUP_PROVISION_ONLINE_CALLER: the offline join is applied to the running Windows.</summary>
    public const uint ProvisionOnlineCaller = 0x40000000;

    public const uint DsDirectoryServiceRequired = 0x00000010;
    public const uint DsWritableRequired = 0x00001000;
    public const uint DsIsDnsName = 0x00020000;
    public const uint DsReturnDnsName = 0x40000000;
}

/// <summary>
/// Domain and tenant membership on Windows, through the native seam (<see cref="WindowsSystem"/>). Reads the join
/// state from netapi32 and the registry, the names from the active and the pending host name; stages each purpose's
/// join data in the protected staging folder; applies offline (NetRequestOfflineDomainJoin), online
/// (NetJoinDomain, unsecure, with the pre-created account's one-time password) and Entra ID (provisioning package)
/// joins; journals an applied join until the restart completed it, so that a replayed apply does nothing.
/// </summary>
internal sealed class WindowsMembership(WindowsSystem system, WindowsJoinStaging staging, Func<long> bootCount, string windowsFolder, ILogger logger) : IDeviceMembership
{
    /// <summary>The Intune MDM provider of an enrollment (its ProviderID).</summary>
    internal const string IntuneProvider = "MS DM Server";

    internal const string HybridJoinTask = @"\Microsoft\Windows\Workplace Join\Automatic-Device-Join";

    public Task<DeviceMembership> GetAsync(CancellationToken ct) => Task.FromResult(Read());

    public Task StageAsync(JoinPurpose purpose, DestinationJoin join, byte[]? package, CancellationToken ct)
    {
        var what = purpose == JoinPurpose.Destination ? "destination join" : "return ticket";
        if (join.Kind == JoinKind.EntraId)
        {
            if (!join.Offline || package is not { Length: > 0 })
            {
                throw new StepFailedException("NoProvisioningPackage", "An Entra ID join needs the tenant's provisioning package, and none came.");
            }

            staging.Stage(purpose, StagedSecret.Package, package);
            logger.LogInformation("Staged the {What}: provisioning package of tenant {TenantId} ({Bytes} bytes)", what, join.TenantId, package.Length);
            return Task.CompletedTask;
        }

        var domain = !string.IsNullOrWhiteSpace(join.DomainDnsName)
            ? join.DomainDnsName
            : throw new StepFailedException("NoDestinationDomain", "The join names no domain.");
        if (join.Offline)
        {
            staging.Stage(purpose, StagedSecret.OfflineJoin, DecodeOfflineJoin(join));
            logger.LogInformation("Staged the {What}: offline join to {Domain} as {ComputerName}", what, domain, join.ComputerName);
            // An offline join needs no domain controller now; the first sign-in after the restart does.
            var status = system.NetSetup.GetDcName(domain, DomainControllerFlags(writable: false), out var controller);
            if (status == WindowsErrors.Success)
            {
                logger.LogInformation("Domain controller {Controller} of {Domain} answers", controller, domain);
            }
            else
            {
                logger.LogWarning("No domain controller of {Domain} answers now ({Error}); the offline join still applies", domain, WindowsErrors.Describe(system.Errors, status, "DsGetDcName"));
            }

            return Task.CompletedTask;
        }

        if (string.IsNullOrEmpty(join.OneTimePassword))
        {
            throw new StepFailedException("NoOneTimePassword", "An online join needs the one-time password of the computer account the server created, and none came.");
        }

        // An online join needs a writable domain controller when it is applied: refuse now, before anything changes.
        var found = system.NetSetup.GetDcName(domain, DomainControllerFlags(writable: true), out var writable);
        if (found != WindowsErrors.Success)
        {
            throw new StepFailedException(
                "NoDomainController",
                $"No writable domain controller of {domain} answers, so the online join cannot be applied; nothing was changed. "
                + WindowsErrors.Describe(system.Errors, found, $"DsGetDcName({domain})"));
        }

        staging.Stage(purpose, StagedSecret.OneTimePassword, Encoding.UTF8.GetBytes(join.OneTimePassword));
        logger.LogInformation("Staged the {What}: online join to {Domain} as {ComputerName} (domain controller {Controller})", what, domain, join.ComputerName, writable);
        return Task.CompletedTask;
    }

    public Task DiscardStagedAsync(CancellationToken ct)
    {
        staging.DiscardStaged();
        return Task.CompletedTask;
    }

    public Task LeaveSourceAsync(DeviceMembership source, CancellationToken ct) => LeaveAsync(Read(), ct);

    public async Task ApplyAsync(JoinPurpose purpose, DestinationJoin join, CancellationToken ct)
    {
        var where = (join.Kind == JoinKind.EntraId ? join.TenantId : join.DomainDnsName)
            ?? throw new StepFailedException("NoDestination", $"The {Describe(purpose)} names no domain or tenant.");
        var fingerprint = WindowsJoinStaging.Fingerprint(purpose, join);
        var recorded = staging.ReadPending();
        if (recorded is { Applied: true } && recorded.Fingerprint == fingerprint && bootCount() <= recorded.BootCount)
        {
            logger.LogInformation("The {What} to {Where} is already applied; it completes at the next restart", Describe(purpose), where);
            return;
        }

        // Written before the call that applies it; a crash between the two makes the next apply a replay.
        var replay = recorded is { Applied: false } && recorded.Fingerprint == fingerprint;
        if (purpose == JoinPurpose.Return && await WithdrawAsync(join, ct))
        {
            staging.ClearPending();
            staging.DeleteSecrets(purpose);
            return;
        }

        var record = new PendingJoinRecord(purpose, fingerprint, where, join.ComputerName, bootCount(), Applied: false);
        switch (join.Kind, join.Offline)
        {
            case (JoinKind.EntraId, _):
                var package = staging.PackagePath(purpose);
                if (!staging.Has(purpose, StagedSecret.Package))
                {
                    throw NotPrepared(purpose);
                }

                staging.WritePending(record);
                await RemoveOtherEnrollmentsAsync(where, ct);
                Rename(join.ComputerName);
                await InstallPackageAsync(package, where, ct);
                break;
            case (_, true):
                var blob = staging.Read(purpose, StagedSecret.OfflineJoin) ?? throw NotPrepared(purpose);
                staging.WritePending(record);
                // The blob names the computer account: Windows takes its name with the join at the restart.
                var offline = system.NetSetup.RequestOfflineDomainJoin(blob, NetSetupOptions.ProvisionOnlineCaller, windowsFolder);
                CheckJoin(offline, replay, $"NetRequestOfflineDomainJoin({where})");
                break;
            default:
                var password = staging.Read(purpose, StagedSecret.OneTimePassword) ?? throw NotPrepared(purpose);
                staging.WritePending(record);
                Rename(join.ComputerName);
                var online = system.NetSetup.JoinDomain(where, null, null, Encoding.UTF8.GetString(password), OnlineJoinOptions());
                CheckJoin(online, replay, $"NetJoinDomain({where})");
                break;
        }

        staging.WritePending(record with { Applied = true });
        staging.DeleteSecrets(purpose);
        logger.LogInformation("Applied the {What} to {Where} as {ComputerName}; it completes at the next restart", Describe(purpose), where, join.ComputerName);
    }

    public async Task<JoinVerification> VerifyAsync(DestinationJoin join, CancellationToken ct)
    {
        if (join.Kind == JoinKind.EntraId)
        {
            return await VerifyEntraAsync(join, ct);
        }

        var domain = join.DomainDnsName ?? throw new StepFailedException("NoDestinationDomain", "The join names no domain.");
        var status = system.NetSetup.QuerySecureChannel(domain, out var channel);
        if (status != WindowsErrors.Success)
        {
            return Unverified(status, $"I_NetLogonControl2(TC_QUERY, {domain})");
        }

        return channel.ChannelStatus == WindowsErrors.Success
            ? new JoinVerification(true, true, $"secure channel with {channel.DomainControllerName} of {domain} verified")
            : Unverified(channel.ChannelStatus, $"the secure channel with {domain} ({channel.DomainControllerName})");
    }

    public async Task<HybridRegistration> RegisterHybridAsync(bool trigger, CancellationToken ct)
    {
        if (trigger)
        {
            var run = await system.Tools.RunAsync(WindowsTool.Schtasks, ["/run", "/tn", HybridJoinTask], ct);
            if (run.ExitCode != 0)
            {
                // Windows also runs the task at sign-in and every hour: the status below says whether it took.
                logger.LogWarning("schtasks /run {Task} exited with {ExitCode}: {Detail}", HybridJoinTask, run.ExitCode, run.Detail);
            }
        }

        var status = await ReadDsregcmdStatusAsync(ct);
        return new HybridRegistration(status.AzureAdJoined, status.DomainJoined, status.TenantId, status.DeviceId);
    }

    /// <summary>Where the device belongs now, under which name, and what completes at the next restart.</summary>
    internal DeviceMembership Read()
    {
        var domain = ReadDomain();
        var entra = system.Registry.ReadEntraJoin();
        var active = system.Naming.ActiveName;
        var pending = CurrentPending();
        // The pending host name, not the active one: a rename waiting for the restart is what the steps must see.
        var pendingName = Differs(system.Naming.PendingName, active) ? system.Naming.PendingName
            : pending is not null && Differs(pending.ComputerName, active) ? pending.ComputerName
            : null;
        return new DeviceMembership
        {
            ComputerName = active,
            JoinType = (domain, entra) switch
            {
                (not null, not null) => DeviceJoinType.HybridEntraId,
                (not null, null) => DeviceJoinType.ActiveDirectory,
                (null, not null) => DeviceJoinType.EntraId,
                _ => DeviceJoinType.Workgroup,
            },
            DomainName = domain,
            TenantId = entra?.TenantId,
            EntraDeviceId = entra?.DeviceId,
            PendingComputerName = pendingName,
            PendingJoin = pending?.Where,
        };
    }

    /// <summary>The applied join the next restart completes; a record older than the last boot is cleared.</summary>
    private PendingJoinRecord? CurrentPending()
    {
        var recorded = staging.ReadPending();
        if (recorded is null)
        {
            return null;
        }

        if (bootCount() > recorded.BootCount)
        {
            staging.ClearPending();
            return null;
        }

        return recorded.Applied ? recorded : null;
    }

    /// <summary>The joined domain's DNS name (its flat name when DNS is unknown), or null when not domain joined.</summary>
    private string? ReadDomain()
    {
        WindowsErrors.Check(system.Errors, system.NetSetup.GetJoinInformation(out var name, out var status), "NetGetJoinInformation");
        if (status != JoinStatus.Domain)
        {
            return null;
        }

        WindowsErrors.Check(system.Errors, system.NetSetup.GetPrimaryDomain(out var primary), "DsRoleGetPrimaryDomainInformation");
        return NonEmpty(primary.DnsName) ?? NonEmpty(primary.FlatName) ?? NonEmpty(name);
    }

    /// <summary>Leaves the Entra ID join (dsregcmd /leave) and the domain (NetUnjoinDomain), whichever apply.</summary>
    private async Task LeaveAsync(DeviceMembership now, CancellationToken ct)
    {
        if (now.JoinType is DeviceJoinType.EntraId or DeviceJoinType.HybridEntraId)
        {
            var leave = await system.Tools.RunAsync(WindowsTool.Dsregcmd, ["/leave"], ct);
            if (leave.ExitCode != 0)
            {
                throw new StepFailedException("DsregcmdFailed", $"dsregcmd /leave exited with {leave.ExitCode}: {leave.Detail}");
            }

            logger.LogInformation("Left Entra ID tenant {TenantId}", now.TenantId);
        }

        if (now.JoinType is DeviceJoinType.ActiveDirectory or DeviceJoinType.HybridEntraId)
        {
            // No NETSETUP_ACCT_DELETE: the computer account stays enabled, so the return ticket can use it.
            var status = system.NetSetup.UnjoinDomain(0);
            if (status != WindowsErrors.Success && WindowsErrors.Classify(status) != WindowsErrorKind.NotJoined)
            {
                throw WindowsErrors.Failure(system.Errors, status, $"NetUnjoinDomain({now.DomainName})");
            }

            logger.LogInformation("Left domain {Domain}", now.DomainName);
        }
    }

    /// <summary>
    /// The return path's first half: the pending name goes back to the source name, and whatever the device joined
    /// since it left is left. True when the device still is in the ticket's domain or tenant (nothing more to do).
    /// A pending offline destination join that netapi32 does not report is superseded by applying the ticket.
    /// </summary>
    private async Task<bool> WithdrawAsync(DestinationJoin ticket, CancellationToken ct)
    {
        Rename(ticket.ComputerName);
        var now = Read();
        if (now.IsIn(ticket))
        {
            logger.LogInformation("The device still is in {Where} as {ComputerName}: only its pending name was taken back", now.DomainName ?? now.TenantId, now.ComputerName);
            return true;
        }

        if (now.JoinType != DeviceJoinType.Workgroup)
        {
            await LeaveAsync(now, ct);
        }

        return false;
    }

    /// <summary>Unsecure join to the pre-created account with its one-time password; the pending name when there is one.</summary>
    private uint OnlineJoinOptions()
    {
        var options = NetSetupOptions.JoinDomain | NetSetupOptions.JoinUnsecure | NetSetupOptions.MachinePasswordPassed;
        if (Differs(system.Naming.PendingName, system.Naming.ActiveName))
        {
            options |= NetSetupOptions.JoinWithNewName;
        }

        // Still joined (a pending destination that the return ticket supersedes): allowed to join anew.
        if (system.NetSetup.GetJoinInformation(out _, out var status) == WindowsErrors.Success && status == JoinStatus.Domain)
        {
            options |= NetSetupOptions.DomainJoinIfJoined;
        }

        return options;
    }

    /// <summary>Success, or "already joined" when this apply replays one whose call may have run before a crash.</summary>
    private void CheckJoin(int status, bool replay, string call)
    {
        if (status == WindowsErrors.Success || (replay && WindowsErrors.Classify(status) == WindowsErrorKind.AlreadyJoined))
        {
            return;
        }

        throw WindowsErrors.Failure(system.Errors, status, call);
    }

    /// <summary>Sets the name Windows takes at the next restart, compared with the pending name (not the active one).</summary>
    private void Rename(string computerName)
    {
        var next = NonEmpty(system.Naming.PendingName) ?? system.Naming.ActiveName;
        if (string.Equals(next, computerName, StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        WindowsErrors.Check(system.Errors, system.Naming.SetPhysicalDnsHostname(computerName), $"SetComputerNameEx({computerName})");
        logger.LogInformation("The computer is named {ComputerName} after the restart (was going to be {Previous})", computerName, next);
    }

    /// <summary>
    /// Windows holds one MDM enrollment: an Intune enrollment of any tenant but the destination's (the source's)
    /// would keep the package's enrollment from applying. Its scheduled tasks go first, then its registry keys.
    /// </summary>
    private async Task RemoveOtherEnrollmentsAsync(string destinationTenant, CancellationToken ct)
    {
        foreach (var enrollment in system.Registry.ReadEnrollments())
        {
            if (!string.Equals(enrollment.ProviderId, IntuneProvider, StringComparison.OrdinalIgnoreCase)
                || enrollment.TenantId is null
                || string.Equals(enrollment.TenantId, destinationTenant, StringComparison.OrdinalIgnoreCase)
                || !Guid.TryParse(enrollment.Id, out var id))
            {
                continue;
            }

            // The id is a parsed GUID, so nothing from the registry reaches the command line as text.
            var taskPath = $@"\Microsoft\Windows\EnterpriseMgmt\{id:D}\";
            var command = $"Get-ScheduledTask -TaskPath '{taskPath}' -ErrorAction SilentlyContinue | Unregister-ScheduledTask -Confirm:$false";
            var removed = await system.Tools.RunAsync(WindowsTool.PowerShell, ["-NoProfile", "-NonInteractive", "-Command", command], ct);
            if (removed.ExitCode != 0)
            {
                throw new StepFailedException("EnrollmentNotRemoved", $"The scheduled tasks of the MDM enrollment of tenant {enrollment.TenantId} were not removed: {removed.Detail}");
            }

            system.Registry.DeleteEnrollment(enrollment.Id);
            logger.LogInformation("Removed the MDM enrollment {Enrollment} of tenant {TenantId}", enrollment.Id, enrollment.TenantId);
        }
    }

    private async Task InstallPackageAsync(string package, string tenant, CancellationToken ct)
    {
        var path = package.Replace("'", "''", StringComparison.Ordinal);
        var install = await system.Tools.RunAsync(
            WindowsTool.PowerShell,
            ["-NoProfile", "-NonInteractive", "-Command", $"Install-ProvisioningPackage -PackagePath '{path}' -ForceInstall -QuietInstall"],
            ct);
        if (install.ExitCode != 0)
        {
            throw new StepFailedException("ProvisioningPackageFailed", $"Install-ProvisioningPackage for tenant {tenant} exited with {install.ExitCode}: {install.Detail}");
        }
    }

    /// <summary>After the restart: Entra ID joined to the destination tenant (dsregcmd) and enrolled in its MDM (registry).</summary>
    private async Task<JoinVerification> VerifyEntraAsync(DestinationJoin join, CancellationToken ct)
    {
        var status = await ReadDsregcmdStatusAsync(ct);
        if (!status.AzureAdJoined)
        {
            return new JoinVerification(false, false, "dsregcmd reports AzureAdJoined: NO (Entra ID has not completed the join yet)");
        }

        if (!string.Equals(status.TenantId, join.TenantId, StringComparison.OrdinalIgnoreCase))
        {
            return new JoinVerification(false, true, $"Entra ID joined to tenant {status.TenantId}, not {join.TenantId}");
        }

        var enrolled = system.Registry.ReadEnrollments().Any(e => string.Equals(e.TenantId, join.TenantId, StringComparison.OrdinalIgnoreCase));
        return enrolled
            ? new JoinVerification(true, true, $"Entra ID joined to tenant {status.TenantId} as device {status.DeviceId}, MDM enrollment present")
            : new JoinVerification(false, false, $"Entra ID joined to tenant {status.TenantId}, no MDM enrollment of the tenant yet");
    }

    private async Task<DsregcmdStatus> ReadDsregcmdStatusAsync(CancellationToken ct)
    {
        var result = await system.Tools.RunAsync(WindowsTool.Dsregcmd, ["/status"], ct);
        if (result.ExitCode != 0)
        {
            throw new StepFailedException("DsregcmdFailed", $"dsregcmd /status exited with {result.ExitCode}: {result.Detail}");
        }

        return DsregcmdStatus.Parse(result.Output);
    }

    /// <summary>A domain controller that does not answer (yet) is waited for; any other answer is a refusal.</summary>
    private JoinVerification Unverified(int status, string what)
    {
        var reachable = WindowsErrors.Classify(status) is not (WindowsErrorKind.DomainControllerUnreachable or WindowsErrorKind.NoSuchDomain);
        return new JoinVerification(false, reachable, WindowsErrors.Describe(system.Errors, status, what));
    }

    private static uint DomainControllerFlags(bool writable) =>
        NetSetupOptions.DsDirectoryServiceRequired | NetSetupOptions.DsIsDnsName | NetSetupOptions.DsReturnDnsName
        | (writable ? NetSetupOptions.DsWritableRequired : 0);

    private static byte[] DecodeOfflineJoin(DestinationJoin join)
    {
        var text = join.ProvisioningData?.Trim();
        var buffer = new byte[text?.Length ?? 0];
        if (string.IsNullOrEmpty(text) || !Convert.TryFromBase64String(text, buffer, out var length) || length == 0)
        {
            throw new StepFailedException("NoOfflineJoinData", "The server sent no readable offline join data for this device.");
        }

        return buffer[..length];
    }

    private static StepFailedException NotPrepared(JoinPurpose purpose) =>
        new("JoinNotPrepared", $"The {Describe(purpose)} was not prepared on this device (nothing is staged).");

    private static string Describe(JoinPurpose purpose) => purpose == JoinPurpose.Destination ? "destination join" : "return ticket";

    private static bool Differs(string? name, string other) => !string.IsNullOrEmpty(name) && !string.Equals(name, other, StringComparison.OrdinalIgnoreCase);

    private static string? NonEmpty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;
}
