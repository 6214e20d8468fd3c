using System.Text;
using Rehome.Agent.Jobs;
using Rehome.Agent.Platform;
using Rehome.Agent.Platform.Windows;
using Rehome.Protocol;

namespace Rehome.Agent.Tests.Windows;

public sealed class WindowsMembershipTests : IDisposable
{
    private const string SourceTenant = "11111111-1111-1111-1111-111111111111";
    private const string DestinationTenant = "22222222-2222-2222-2222-222222222222";

    private readonly FakeWindowsDevice device = new();

    private static DestinationJoin OfflineJoin => new()
    {
        Kind = JoinKind.ActiveDirectory,
        Offline = true,
        DomainDnsName = "fabrikam.com",
        ComputerName = "FAB-PC01",
        ProvisioningData = FakeWindowsDevice.Base64("destination djoin blob"),
    };

    private static DestinationJoin OnlineJoin => new()
    {
        Kind = JoinKind.ActiveDirectory,
        DomainDnsName = "fabrikam.com",
        ComputerName = "FAB-PC01",
        OneTimePassword = "One-time-7",
        OrganizationalUnit = "OU=Moved,DC=fabrikam,DC=com",
    };

    private static DestinationJoin EntraJoin => new()
    {
        Kind = JoinKind.EntraId,
        Offline = true,
        TenantId = DestinationTenant,
        ComputerName = "FAB-PC01",
        PackageBytes = 4,
    };

    /// <summary>The way back into contoso.com as PC01; the job's journal keeps it without its secret.</summary>
    private static DestinationJoin ReturnTicket => new()
    {
        Kind = JoinKind.ActiveDirectory,
        Offline = true,
        DomainDnsName = "contoso.com",
        ComputerName = "PC01",
        ProvisioningData = FakeWindowsDevice.Base64("return djoin blob"),
    };

    public void Dispose() => device.Dispose();

    [Fact]
    public async Task A_workgroup_device_reads_as_a_workgroup_under_its_active_name()
    {
        var now = await device.Membership.GetAsync(default);

        Assert.Equal(DeviceJoinType.Workgroup, now.JoinType);
        Assert.Equal("PC01", now.ComputerName);
        Assert.Null(now.DomainName);
        Assert.Null(now.PendingComputerName);
        Assert.Null(now.PendingJoin);
    }

    [Fact]
    public async Task A_domain_member_reports_the_dns_name_of_its_domain()
    {
        device.NetSetup.JoinedTo("contoso.com");

        var now = await device.Membership.GetAsync(default);

        Assert.Equal(DeviceJoinType.ActiveDirectory, now.JoinType);
        Assert.Equal("contoso.com", now.DomainName);
    }

    [Fact]
    public async Task A_domain_member_with_an_entra_join_is_hybrid_with_its_tenant_and_device_id()
    {
        device.NetSetup.JoinedTo("contoso.com");
        device.Registry.Entra = new EntraJoin(SourceTenant, "33333333-3333-3333-3333-333333333333");

        var now = await device.Membership.GetAsync(default);

        Assert.Equal(DeviceJoinType.HybridEntraId, now.JoinType);
        Assert.Equal(SourceTenant, now.TenantId);
        Assert.Equal("33333333-3333-3333-3333-333333333333", now.EntraDeviceId);
    }

    [Fact]
    public async Task An_entra_join_without_a_domain_is_entra_id()
    {
        device.Registry.Entra = new EntraJoin(SourceTenant, null);

        Assert.Equal(DeviceJoinType.EntraId, (await device.Membership.GetAsync(default)).JoinType);
    }

    [Fact]
    public async Task A_pending_name_that_differs_from_the_active_name_is_reported()
    {
        // The defect: the pending name was compared with the active one and so never seen.
        device.Naming.PendingName = "FAB-PC01";

        var now = await device.Membership.GetAsync(default);

        Assert.Equal("PC01", now.ComputerName);
        Assert.Equal("FAB-PC01", now.PendingComputerName);
    }

    [Fact]
    public async Task A_pending_name_equal_to_the_active_name_is_not_a_rename()
    {
        device.Naming.PendingName = "pc01";

        Assert.Null((await device.Membership.GetAsync(default)).PendingComputerName);
    }

    [Fact]
    public async Task An_offline_join_is_staged_sealed_for_its_purpose_and_changes_nothing_on_the_device()
    {
        device.NetSetup.JoinedTo("contoso.com");
        device.NetSetup.DomainControllers["fabrikam.com"] = 0;

        await device.Membership.StageAsync(JoinPurpose.Destination, OfflineJoin, null, default);

        var staged = File.ReadAllBytes(device.StagedFile("destination.offline-join.sealed"));
        Assert.DoesNotContain("destination djoin blob", Encoding.UTF8.GetString(staged), StringComparison.Ordinal);
        Assert.Equal("destination djoin blob", Encoding.UTF8.GetString(device.Staging.Read(JoinPurpose.Destination, StagedSecret.OfflineJoin)!));
        Assert.Contains(device.Staging.Folder, device.Protection.SecuredFolders);
        Assert.All(device.Calls, call => Assert.StartsWith("DsGetDcName", call, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_file_left_where_a_secret_is_written_is_replaced_not_written_through()
    {
        Directory.CreateDirectory(device.Staging.Folder);
        var outside = Path.Combine(device.Folder, "readable-by-someone-else");
        File.WriteAllText(outside, "theirs");
        File.CreateSymbolicLink(device.StagedFile("destination.offline-join.sealed.tmp"), outside);

        await device.Membership.StageAsync(JoinPurpose.Destination, OfflineJoin, null, default);

        Assert.Equal("theirs", File.ReadAllText(outside));
        Assert.Equal("destination djoin blob", Encoding.UTF8.GetString(device.Staging.Read(JoinPurpose.Destination, StagedSecret.OfflineJoin)!));
    }

    [Fact]
    public async Task An_offline_join_stages_even_when_no_domain_controller_answers_now()
    {
        await device.Membership.StageAsync(JoinPurpose.Destination, OfflineJoin, null, default);

        Assert.True(device.Staging.Has(JoinPurpose.Destination, StagedSecret.OfflineJoin));
    }

    [Fact]
    public async Task Offline_join_data_that_is_not_base64_is_refused_before_anything_is_staged()
    {
        var join = OfflineJoin with { ProvisioningData = "not base64 !!" };

        var failure = await Assert.ThrowsAsync<StepFailedException>(() => device.Membership.StageAsync(JoinPurpose.Destination, join, null, default));

        Assert.Equal("NoOfflineJoinData", failure.Code);
        Assert.False(device.Staging.Has(JoinPurpose.Destination, StagedSecret.OfflineJoin));
    }

    [Fact]
    public async Task An_online_join_without_its_one_time_password_is_refused()
    {
        var failure = await Assert.ThrowsAsync<StepFailedException>(() =>
            device.Membership.StageAsync(JoinPurpose.Destination, OnlineJoin with { OneTimePassword = null }, null, default));

        Assert.Equal("NoOneTimePassword", failure.Code);
    }

    [Fact]
    public async Task An_online_join_whose_domain_has_no_writable_domain_controller_is_refused_before_anything_changes()
    {
        device.NetSetup.DomainControllers["fabrikam.com"] = WindowsErrors.NoSuchDomain;

        var failure = await Assert.ThrowsAsync<StepFailedException>(() => device.Membership.StageAsync(JoinPurpose.Destination, OnlineJoin, null, default));

        Assert.Equal("NoDomainController", failure.Code);
        Assert.Contains("1355", failure.Message, StringComparison.Ordinal);
        Assert.False(device.Staging.Has(JoinPurpose.Destination, StagedSecret.OneTimePassword));
        Assert.Equal([$"DsGetDcName(fabrikam.com, 0x{0x40021010:X})"], device.Calls);
    }

    [Fact]
    public async Task An_online_join_with_a_domain_controller_stages_its_one_time_password_sealed()
    {
        device.NetSetup.DomainControllers["fabrikam.com"] = 0;

        await device.Membership.StageAsync(JoinPurpose.Destination, OnlineJoin, null, default);

        Assert.Equal("One-time-7", Encoding.UTF8.GetString(device.Staging.Read(JoinPurpose.Destination, StagedSecret.OneTimePassword)!));
        Assert.DoesNotContain("One-time-7", File.ReadAllText(device.StagedFile("destination.one-time-password.sealed")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_entra_join_without_its_package_is_refused()
    {
        var failure = await Assert.ThrowsAsync<StepFailedException>(() => device.Membership.StageAsync(JoinPurpose.Destination, EntraJoin, [], default));

        Assert.Equal("NoProvisioningPackage", failure.Code);
    }

    [Fact]
    public async Task The_return_ticket_is_staged_beside_the_destination_join_and_discarding_forgets_both()
    {
        await device.Membership.StageAsync(JoinPurpose.Destination, OfflineJoin, null, default);
        await device.Membership.StageAsync(JoinPurpose.Return, ReturnTicket, null, default);

        Assert.True(device.Staging.Has(JoinPurpose.Destination, StagedSecret.OfflineJoin));
        Assert.True(device.Staging.Has(JoinPurpose.Return, StagedSecret.OfflineJoin));

        await device.Membership.DiscardStagedAsync(default);

        Assert.False(device.Staging.Has(JoinPurpose.Destination, StagedSecret.OfflineJoin));
        Assert.False(device.Staging.Has(JoinPurpose.Return, StagedSecret.OfflineJoin));
    }

    [Fact]
    public async Task Leaving_a_domain_unjoins_without_deleting_the_computer_account()
    {
        device.NetSetup.JoinedTo("contoso.com");

        await device.Membership.LeaveSourceAsync(await device.Membership.GetAsync(default), default);

        Assert.Equal(["NetUnjoinDomain(0x0)"], device.Calls);
        Assert.Equal(DeviceJoinType.Workgroup, (await device.Membership.GetAsync(default)).JoinType);
    }

    [Fact]
    public async Task Leaving_a_hybrid_device_leaves_entra_id_then_the_domain()
    {
        device.NetSetup.JoinedTo("contoso.com");
        device.Registry.Entra = new EntraJoin(SourceTenant, null);

        await device.Membership.LeaveSourceAsync(await device.Membership.GetAsync(default), default);

        Assert.Equal(["Dsregcmd /leave", "NetUnjoinDomain(0x0)"], device.Calls);
    }

    [Fact]
    public async Task Leaving_a_workgroup_device_calls_nothing()
    {
        await device.Membership.LeaveSourceAsync(await device.Membership.GetAsync(default), default);

        Assert.Empty(device.Calls);
    }

    [Fact]
    public async Task Not_joined_when_leaving_counts_as_left()
    {
        device.NetSetup.JoinedTo("contoso.com");
        device.NetSetup.UnjoinResult = WindowsErrors.NerrSetupNotJoined;

        await device.Membership.LeaveSourceAsync(await device.Membership.GetAsync(default), default);

        Assert.Equal(["NetUnjoinDomain(0x0)"], device.Calls);
    }

    [Fact]
    public async Task Access_denied_when_leaving_fails_the_step_with_AccessDenied_and_windows_text()
    {
        device.NetSetup.JoinedTo("contoso.com");
        device.NetSetup.UnjoinResult = WindowsErrors.AccessDenied;

        var failure = await Assert.ThrowsAsync<StepFailedException>(() => device.Membership.LeaveSourceAsync(new DeviceMembership { ComputerName = "PC01" }, default));

        Assert.Equal("AccessDenied", failure.Code);
        Assert.Contains("NetUnjoinDomain(contoso.com) failed with error 5", failure.Message, StringComparison.Ordinal);
        Assert.Contains("Access is denied.", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_dsregcmd_leave_fails_the_step_before_the_domain_is_left()
    {
        device.NetSetup.JoinedTo("contoso.com");
        device.Registry.Entra = new EntraJoin(SourceTenant, null);
        device.Tools.Answer = (_, _) => new ToolResult(1, "", "DSREG_E_LEAVE_FAILED");

        var failure = await Assert.ThrowsAsync<StepFailedException>(() => device.Membership.LeaveSourceAsync(new DeviceMembership { ComputerName = "PC01" }, default));

        Assert.Equal("DsregcmdFailed", failure.Code);
        Assert.DoesNotContain(device.Calls, call => call.StartsWith("NetUnjoinDomain", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_offline_join_is_applied_to_the_running_windows_journaled_as_pending_and_its_secret_deleted()
    {
        await device.Membership.StageAsync(JoinPurpose.Destination, OfflineJoin, null, default);
        device.Calls.Clear();

        await device.Membership.ApplyAsync(JoinPurpose.Destination, OfflineJoin, default);

        Assert.Equal([$"NetRequestOfflineDomainJoin(0x40000000, {FakeWindowsDevice.WindowsFolder})"], device.Calls);
        Assert.Equal("destination djoin blob", Encoding.UTF8.GetString(device.NetSetup.LastOfflineBlob!));
        Assert.False(device.Staging.Has(JoinPurpose.Destination, StagedSecret.OfflineJoin));
        var now = await device.Membership.GetAsync(default);
        Assert.Equal("fabrikam.com", now.PendingJoin);
        Assert.Equal("FAB-PC01", now.PendingComputerName);
    }

    [Fact]
    public async Task A_hybrid_identity_destination_joins_its_domain_offline_like_active_directory()
    {
        var hybrid = OfflineJoin with { Kind = JoinKind.HybridIdentity, TenantId = DestinationTenant };
        await device.Membership.StageAsync(JoinPurpose.Destination, hybrid, null, default);
        device.Calls.Clear();

        await device.Membership.ApplyAsync(JoinPurpose.Destination, hybrid, default);

        Assert.Equal([$"NetRequestOfflineDomainJoin(0x40000000, {FakeWindowsDevice.WindowsFolder})"], device.Calls);
        Assert.Equal("fabrikam.com", (await device.Membership.GetAsync(default)).PendingJoin);
    }

    [Fact]
    public async Task Applying_the_same_join_again_before_the_restart_calls_windows_once()
    {
        await device.Membership.StageAsync(JoinPurpose.Destination, OfflineJoin, null, default);
        await device.Membership.ApplyAsync(JoinPurpose.Destination, OfflineJoin, default);

        await device.Membership.ApplyAsync(JoinPurpose.Destination, OfflineJoin with { ProvisioningData = null }, default);

        Assert.Single(device.Calls, call => call.StartsWith("NetRequestOfflineDomainJoin", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_crash_after_the_offline_join_call_replays_it_and_already_joined_then_counts_as_done()
    {
        await device.Membership.StageAsync(JoinPurpose.Destination, OfflineJoin, null, default);
        // The intent was journaled, the call ran, the agent died before journaling that it was applied.
        device.Staging.WritePending(new PendingJoinRecord(JoinPurpose.Destination, WindowsJoinStaging.Fingerprint(JoinPurpose.Destination, OfflineJoin), "fabrikam.com", "FAB-PC01", device.Boots, Applied: false));
        device.NetSetup.OfflineJoinResult = WindowsErrors.NerrSetupAlreadyJoined;

        await device.Membership.ApplyAsync(JoinPurpose.Destination, OfflineJoin, default);

        Assert.Equal("fabrikam.com", (await device.Membership.GetAsync(default)).PendingJoin);
    }

    [Fact]
    public async Task Already_joined_on_a_first_apply_fails_with_AlreadyJoined()
    {
        await device.Membership.StageAsync(JoinPurpose.Destination, OfflineJoin, null, default);
        device.NetSetup.OfflineJoinResult = WindowsErrors.NerrSetupAlreadyJoined;

        var failure = await Assert.ThrowsAsync<StepFailedException>(() => device.Membership.ApplyAsync(JoinPurpose.Destination, OfflineJoin, default));

        Assert.Equal("AlreadyJoined", failure.Code);
        Assert.Null((await device.Membership.GetAsync(default)).PendingJoin);
    }

    [Fact]
    public async Task Applying_a_join_that_was_not_staged_fails_with_JoinNotPrepared_and_calls_nothing()
    {
        var failure = await Assert.ThrowsAsync<StepFailedException>(() => device.Membership.ApplyAsync(JoinPurpose.Destination, OfflineJoin, default));

        Assert.Equal("JoinNotPrepared", failure.Code);
        Assert.Empty(device.Calls);
    }

    [Fact]
    public async Task An_online_join_sets_the_destination_name_then_joins_unsecure_with_the_one_time_password()
    {
        device.NetSetup.DomainControllers["fabrikam.com"] = 0;
        await device.Membership.StageAsync(JoinPurpose.Destination, OnlineJoin, null, default);
        device.Calls.Clear();

        await device.Membership.ApplyAsync(JoinPurpose.Destination, OnlineJoin, default);

        Assert.Equal(["SetComputerNameEx(FAB-PC01)", "NetJoinDomain(fabrikam.com)"], device.Calls);
        Assert.Equal("One-time-7", device.NetSetup.LastJoinPassword);
        Assert.Null(device.NetSetup.LastJoinAccount);
        Assert.Null(device.NetSetup.LastJoinOu);
        Assert.Equal(
            NetSetupOptions.JoinDomain | NetSetupOptions.JoinUnsecure | NetSetupOptions.MachinePasswordPassed | NetSetupOptions.JoinWithNewName,
            device.NetSetup.LastJoinOptions);
        Assert.False(device.Staging.Has(JoinPurpose.Destination, StagedSecret.OneTimePassword));
    }

    [Fact]
    public async Task An_online_join_whose_domain_cannot_be_contacted_fails_with_NoSuchDomain()
    {
        device.NetSetup.DomainControllers["fabrikam.com"] = 0;
        await device.Membership.StageAsync(JoinPurpose.Destination, OnlineJoin, null, default);
        device.NetSetup.JoinResult = WindowsErrors.NoSuchDomain;

        var failure = await Assert.ThrowsAsync<StepFailedException>(() => device.Membership.ApplyAsync(JoinPurpose.Destination, OnlineJoin, default));

        Assert.Equal("NoSuchDomain", failure.Code);
        Assert.Contains("could not be contacted", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_restart_completes_the_pending_join_and_clears_its_journal()
    {
        await device.Membership.StageAsync(JoinPurpose.Destination, OfflineJoin, null, default);
        await device.Membership.ApplyAsync(JoinPurpose.Destination, OfflineJoin, default);

        // What Windows does at the restart: the blob's domain and name take effect.
        device.Restart();
        device.NetSetup.JoinedTo("fabrikam.com");
        device.Naming.ActiveName = device.Naming.PendingName = "FAB-PC01";
        var now = await device.Membership.GetAsync(default);

        Assert.Null(now.PendingJoin);
        Assert.Equal("FAB-PC01", now.ComputerName);
        Assert.Null(device.Staging.ReadPending());
        Assert.True(now.IsIn(OfflineJoin));
    }

    [Fact]
    public async Task An_entra_join_removes_the_source_tenants_mdm_enrollment_then_installs_the_package()
    {
        const string sourceEnrollment = "AAAAAAAA-0000-0000-0000-000000000001";
        device.Registry.Enrollments.Add(new MdmEnrollment(sourceEnrollment, WindowsMembership.IntuneProvider, SourceTenant));
        device.Registry.Enrollments.Add(new MdmEnrollment("AAAAAAAA-0000-0000-0000-000000000002", "Some other MDM", SourceTenant));
        device.Registry.Enrollments.Add(new MdmEnrollment("AAAAAAAA-0000-0000-0000-000000000003", WindowsMembership.IntuneProvider, DestinationTenant));
        await device.Membership.StageAsync(JoinPurpose.Destination, EntraJoin, [1, 2, 3, 4], default);

        await device.Membership.ApplyAsync(JoinPurpose.Destination, EntraJoin, default);

        Assert.Equal(4, device.Calls.Count);
        Assert.Contains(@"\Microsoft\Windows\EnterpriseMgmt\aaaaaaaa-0000-0000-0000-000000000001\", device.Calls[0], StringComparison.Ordinal);
        Assert.Contains("Unregister-ScheduledTask", device.Calls[0], StringComparison.Ordinal);
        Assert.Equal($"DeleteEnrollment({sourceEnrollment})", device.Calls[1]);
        Assert.Equal("SetComputerNameEx(FAB-PC01)", device.Calls[2]);
        Assert.Contains("Install-ProvisioningPackage -PackagePath", device.Calls[3], StringComparison.Ordinal);
        Assert.Contains("destination.ppkg", device.Calls[3], StringComparison.Ordinal);
        Assert.Equal(2, device.Registry.Enrollments.Count);
        Assert.Equal(DestinationTenant, (await device.Membership.GetAsync(default)).PendingJoin);
    }

    [Fact]
    public async Task A_provisioning_package_windows_refuses_fails_the_apply_and_journals_nothing_as_pending()
    {
        await device.Membership.StageAsync(JoinPurpose.Destination, EntraJoin, [1, 2, 3, 4], default);
        device.Tools.Answer = (_, _) => new ToolResult(1, "", "The package is invalid.");

        var failure = await Assert.ThrowsAsync<StepFailedException>(() => device.Membership.ApplyAsync(JoinPurpose.Destination, EntraJoin, default));

        Assert.Equal("ProvisioningPackageFailed", failure.Code);
        Assert.Null((await device.Membership.GetAsync(default)).PendingJoin);
    }

    [Fact]
    public async Task The_return_ticket_takes_back_the_source_name_and_supersedes_a_pending_offline_join()
    {
        await device.Membership.StageAsync(JoinPurpose.Destination, OfflineJoin, null, default);
        await device.Membership.StageAsync(JoinPurpose.Return, ReturnTicket, null, default);
        await device.Membership.ApplyAsync(JoinPurpose.Destination, OfflineJoin, default);
        device.Naming.PendingName = "FAB-PC01";
        device.Calls.Clear();

        await device.Membership.ApplyAsync(JoinPurpose.Return, ReturnTicket with { ProvisioningData = null }, default);

        Assert.Equal(["SetComputerNameEx(PC01)", $"NetRequestOfflineDomainJoin(0x40000000, {FakeWindowsDevice.WindowsFolder})"], device.Calls);
        Assert.Equal("return djoin blob", Encoding.UTF8.GetString(device.NetSetup.LastOfflineBlob!));
        var now = await device.Membership.GetAsync(default);
        Assert.Equal("contoso.com", now.PendingJoin);
        Assert.Null(now.PendingComputerName);
        Assert.Equal(JoinPurpose.Return, device.Staging.ReadPending()!.Purpose);
    }

    [Fact]
    public async Task The_return_path_leaves_a_destination_joined_online_before_applying_the_ticket()
    {
        device.NetSetup.DomainControllers["fabrikam.com"] = 0;
        await device.Membership.StageAsync(JoinPurpose.Destination, OnlineJoin, null, default);
        await device.Membership.StageAsync(JoinPurpose.Return, ReturnTicket, null, default);
        await device.Membership.ApplyAsync(JoinPurpose.Destination, OnlineJoin, default);
        device.Calls.Clear();

        await device.Membership.ApplyAsync(JoinPurpose.Return, ReturnTicket, default);

        Assert.Equal(["SetComputerNameEx(PC01)", "NetUnjoinDomain(0x0)", $"NetRequestOfflineDomainJoin(0x40000000, {FakeWindowsDevice.WindowsFolder})"], device.Calls);
    }

    [Fact]
    public async Task A_device_still_in_its_source_only_gets_its_name_back_from_the_return_ticket()
    {
        device.NetSetup.JoinedTo("contoso.com");
        await device.Membership.StageAsync(JoinPurpose.Return, ReturnTicket, null, default);
        device.Naming.PendingName = "FAB-PC01";
        device.Calls.Clear();

        await device.Membership.ApplyAsync(JoinPurpose.Return, ReturnTicket, default);

        Assert.Equal(["SetComputerNameEx(PC01)"], device.Calls);
        Assert.True((await device.Membership.GetAsync(default)).IsIn(ReturnTicket));
    }

    [Fact]
    public async Task A_working_secure_channel_verifies_the_join()
    {
        var verified = await device.Membership.VerifyAsync(OfflineJoin, default);

        Assert.Equal(new JoinVerification(true, true, @"secure channel with \\dc1.fabrikam.com of fabrikam.com verified"), verified);
    }

    [Theory]
    [InlineData(0, 1311, false, "no logon servers")]
    [InlineData(0, 1787, true, "computer account")]
    [InlineData(1355, 1355, false, "could not be contacted")]
    [InlineData(5, 5, true, "Access is denied")]
    public async Task A_secure_channel_that_fails_is_waited_for_when_nothing_answers_and_refused_otherwise(int callStatus, int channelStatus, bool reachable, string detail)
    {
        // 1355 reads "does not exist or could not be contacted": the device was configured in the domain, so wait.
        device.NetSetup.SecureChannelAnswer = (callStatus, new SecureChannel(channelStatus, @"\\dc1.fabrikam.com"));

        var verified = await device.Membership.VerifyAsync(OfflineJoin, default);

        Assert.Equal((false, reachable), (verified.Joined, verified.Reachable));
        Assert.Contains(detail, verified.Detail, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(["I_NetLogonControl2(fabrikam.com)"], device.Calls);
    }

    [Fact]
    public async Task An_entra_join_is_verified_by_the_destination_tenant_and_its_mdm_enrollment()
    {
        device.Tools.DsregcmdStatus = DsregcmdSamples.EntraJoined(DestinationTenant);
        device.Registry.Enrollments.Add(new MdmEnrollment("AAAAAAAA-0000-0000-0000-000000000003", WindowsMembership.IntuneProvider, DestinationTenant));

        var verified = await device.Membership.VerifyAsync(EntraJoin, default);

        Assert.True(verified.Joined);
        Assert.Contains("MDM enrollment present", verified.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_entra_join_without_the_destination_enrollment_yet_is_waited_for()
    {
        device.Tools.DsregcmdStatus = DsregcmdSamples.EntraJoined(DestinationTenant);

        var verified = await device.Membership.VerifyAsync(EntraJoin, default);

        Assert.Equal((false, false), (verified.Joined, verified.Reachable));
    }

    [Fact]
    public async Task An_entra_join_to_another_tenant_is_a_refusal()
    {
        device.Tools.DsregcmdStatus = DsregcmdSamples.EntraJoined(SourceTenant);

        var verified = await device.Membership.VerifyAsync(EntraJoin, default);

        Assert.Equal((false, true), (verified.Joined, verified.Reachable));
        Assert.Contains(SourceTenant, verified.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hybrid_registration_runs_the_automatic_device_join_task_then_reads_dsregcmd()
    {
        device.Tools.DsregcmdStatus = DsregcmdSamples.Hybrid;

        var registration = await device.Membership.RegisterHybridAsync(trigger: true, default);

        Assert.Equal([@"Schtasks /run /tn \Microsoft\Windows\Workplace Join\Automatic-Device-Join", "Dsregcmd /status"], device.Calls);
        Assert.Equal(new HybridRegistration(true, true, DsregcmdSamples.HybridTenant, DsregcmdSamples.HybridDevice), registration);
    }

    [Fact]
    public async Task Hybrid_registration_without_a_trigger_only_reads_dsregcmd()
    {
        device.Tools.DsregcmdStatus = DsregcmdSamples.Workgroup;

        var registration = await device.Membership.RegisterHybridAsync(trigger: false, default);

        Assert.Equal(["Dsregcmd /status"], device.Calls);
        Assert.Equal(new HybridRegistration(false, false, null, null), registration);
    }

    [Fact]
    public async Task A_missing_automatic_device_join_task_is_not_a_failure_the_status_still_decides()
    {
        device.Tools.DsregcmdStatus = DsregcmdSamples.Hybrid;
        device.Tools.Answer = (_, _) => new ToolResult(1, "", "ERROR: The system cannot find the file specified.");

        var registration = await device.Membership.RegisterHybridAsync(trigger: true, default);

        Assert.True(registration.AzureAdJoined);
    }
}
