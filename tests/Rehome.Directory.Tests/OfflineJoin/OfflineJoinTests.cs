using Rehome.Directory.ActiveDirectory;
using Rehome.Directory.OfflineJoin;
using Rehome.Directory.Tests.ActiveDirectory;

namespace Rehome.Directory.Tests.OfflineJoin;

public sealed class OfflineJoinTests : IDisposable
{
    private static readonly SambaDomain Destination = SambaDomains.Destination;
    private readonly LdapActiveDirectoryDirectory directory = new(Destination.Options());
    private readonly DirectoryInfo scratch = System.IO.Directory.CreateTempSubdirectory("rehome-member-");

    public void Dispose()
    {
        directory.Dispose();
        scratch.Delete(true);
    }

    [Fact]
    public async Task The_data_rehome_provisions_joins_a_member_and_net_ads_testjoin_passes()
    {
        var name = SambaDomains.NewComputerName("ODJ-");
        var provisioner = Provisioner();

        var result = await provisioner.ProvisionAsync(new OfflineJoinRequest(name, Destination.Workstations, ReuseExistingAccount: false));

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal(OfflineJoinFailureReason.None, result.Failure);
        var computer = await directory.FindComputerAsync(name);
        Assert.Equal($"CN={name},{Destination.Workstations}", computer?.DistinguishedName);

        await AssertJoinsAsync(name, result.Data!);
    }

    [Fact]
    public async Task A_computer_account_created_first_and_provisioned_with_reuse_joins_too()
    {
        // The server's order for a policy that pre-creates accounts: create (or reuse) in the OU, then provision.
        var name = SambaDomains.NewComputerName("PRE-");
        var account = await directory.EnsureComputerAccountAsync(new ComputerAccountRequest(name, Destination.Workstations, ReuseExisting: false));

        var result = await Provisioner().ProvisionAsync(new OfflineJoinRequest(name, Destination.Workstations, ReuseExistingAccount: true));

        Assert.Equal(ComputerAccountOutcome.Created, account.Outcome);
        Assert.True(result.Succeeded, result.Message);
        Assert.Equal(account.Computer!.Sid, (await directory.FindComputerAsync(name))!.Sid);
        await AssertJoinsAsync(name, result.Data!);
    }

    [Fact]
    public void The_factory_provisions_with_samba_on_linux()
    {
        var factory = new DirectoryFactory(new SambaOfflineJoinOptions { NetCommand = Destination.NetCommand });

        var provisioner = factory.CreateOfflineJoinProvisioner(directory, new DirectoryCredential(@"DST\Administrator", SambaDomains.Password));

        Assert.IsType<SambaOfflineJoinProvisioner>(provisioner);
    }

    [Fact]
    public async Task A_member_that_did_not_consume_the_data_is_not_joined()
    {
        // The counterpart of the proof above: testjoin really checks the machine account.
        var member = SambaMember.WriteConfiguration(Destination, SambaDomains.NewComputerName("NOJ-"), scratch);

        var testJoin = await SambaMember.RunNetAsync(Destination, "ads", "testjoin", "-s", member);

        Assert.NotEqual(0, testJoin.ExitCode);
        Assert.DoesNotContain("Join is OK", testJoin.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_data_is_an_offline_join_file_and_stays_out_of_messages_and_temporary_files()
    {
        var before = TemporaryProvisioningFolders();

        var result = await Provisioner().ProvisionAsync(new OfflineJoinRequest(SambaDomains.NewComputerName("FMT-"), null, ReuseExistingAccount: false));

        Assert.True(result.Succeeded, result.Message);
        var base64 = OfflineJoinFile.ToBase64Text(result.Data!);
        Assert.True(Convert.FromBase64String(base64).Length > 500);
        Assert.DoesNotContain(base64[..40], result.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(base64[..40], result.ToString(), StringComparison.Ordinal);
        Assert.Equal(before, TemporaryProvisioningFolders());
    }

    [Fact]
    public async Task A_name_held_by_another_machine_is_refused_without_reuse_and_provisioned_with_it()
    {
        var name = SambaDomains.NewComputerName("REUSE-");
        var created = await directory.EnsureComputerAccountAsync(new ComputerAccountRequest(name, Destination.Workstations, ReuseExisting: false));
        Assert.Equal(ComputerAccountOutcome.Created, created.Outcome);

        var refused = await Provisioner().ProvisionAsync(new OfflineJoinRequest(name, Destination.Workstations, ReuseExistingAccount: false));
        var reused = await Provisioner().ProvisionAsync(new OfflineJoinRequest(name, Destination.Workstations, ReuseExistingAccount: true));

        Assert.Equal(OfflineJoinFailureReason.NameTaken, refused.Failure);
        Assert.Null(refused.Data);
        Assert.Contains("another machine's account", refused.Message, StringComparison.Ordinal);
        Assert.True(reused.Succeeded, reused.Message);
        Assert.Equal(created.Computer!.Sid, (await directory.FindComputerAsync(name))!.Sid);
    }

    [Fact]
    public async Task A_missing_ou_is_reported_as_such()
    {
        var result = await Provisioner().ProvisionAsync(
            new OfflineJoinRequest(SambaDomains.NewComputerName("OU-"), $"OU=Missing,{Destination.BaseDn}", ReuseExistingAccount: false));

        Assert.Equal(OfflineJoinFailureReason.OrganizationalUnitMissing, result.Failure);
        Assert.Contains("OU=Missing", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_account_without_rights_on_the_ou_gets_access_denied_and_no_account()
    {
        var name = SambaDomains.NewComputerName("ACL-");
        var provisioner = new SambaOfflineJoinProvisioner(
            directory,
            new DirectoryCredential($@"{Destination.NetBiosName}\{SambaDomains.UnprivilegedUser}", SambaDomains.Password),
            new SambaOfflineJoinOptions { NetCommand = Destination.NetCommand });

        var result = await provisioner.ProvisionAsync(new OfflineJoinRequest(name, Destination.Workstations, ReuseExistingAccount: false));

        Assert.Equal(OfflineJoinFailureReason.AccessDenied, result.Failure);
        Assert.StartsWith("Access denied", result.Message, StringComparison.Ordinal);
        Assert.Null(await directory.FindComputerAsync(name));
    }

    [Fact]
    public async Task Rejected_credentials_are_a_logon_failure_and_the_password_is_not_in_the_message()
    {
        var provisioner = new SambaOfflineJoinProvisioner(
            directory,
            new DirectoryCredential(@"DST\Administrator", "Wrong-Password-1"),
            new SambaOfflineJoinOptions { NetCommand = Destination.NetCommand });

        var result = await provisioner.ProvisionAsync(new OfflineJoinRequest(SambaDomains.NewComputerName("PWD-"), null, ReuseExistingAccount: false));

        Assert.Equal(OfflineJoinFailureReason.LogonFailure, result.Failure);
        Assert.DoesNotContain("Wrong-Password-1", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_machine_name_is_refused_before_samba_runs()
    {
        var provisioner = new SambaOfflineJoinProvisioner(
            directory,
            new DirectoryCredential(@"DST\Administrator", SambaDomains.Password),
            new SambaOfflineJoinOptions { NetCommand = "/nonexistent/net" });

        var result = await provisioner.ProvisionAsync(new OfflineJoinRequest("not a name", null, ReuseExistingAccount: false));

        Assert.Equal(OfflineJoinFailureReason.InvalidName, result.Failure);
    }

    /// <summary>The proof: a scratch member consumes the data with requestodj, and testjoin confirms the join.</summary>
    private async Task AssertJoinsAsync(string name, byte[] data)
    {
        var joined = await SambaMember.JoinAsync(Destination, name, data, scratch);
        Assert.True(joined.RequestExitCode == 0, joined.RequestOutput);
        Assert.True(joined.TestJoinExitCode == 0, joined.TestJoinOutput);
        Assert.Contains("Join is OK", joined.TestJoinOutput, StringComparison.Ordinal);
    }

    private static SambaOfflineJoinProvisioner Provisioner() => new(
        new LdapActiveDirectoryDirectory(Destination.Options()),
        new DirectoryCredential($"Administrator@{Destination.DnsName}", SambaDomains.Password),
        new SambaOfflineJoinOptions { NetCommand = Destination.NetCommand });

    private static string[] TemporaryProvisioningFolders() =>
        [.. System.IO.Directory.GetDirectories(Path.GetTempPath(), "rehome-odj-*").Order()];
}
