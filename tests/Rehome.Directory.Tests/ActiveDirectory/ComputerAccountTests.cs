using Rehome.Directory.ActiveDirectory;

namespace Rehome.Directory.Tests.ActiveDirectory;

public sealed class ComputerAccountTests
{
    private static readonly SambaDomain Destination = SambaDomains.Destination;

    [Fact]
    public async Task A_new_name_is_created_in_the_requested_ou_with_a_sid_of_the_domain()
    {
        using var directory = new LdapActiveDirectoryDirectory(Destination.Options());
        var name = SambaDomains.NewComputerName("NEW-");

        var result = await directory.EnsureComputerAccountAsync(new ComputerAccountRequest(name, Destination.Workstations, ReuseExisting: false));

        Assert.Equal(ComputerAccountOutcome.Created, result.Outcome);
        Assert.NotNull(result.Computer);
        Assert.Equal($"CN={name},{Destination.Workstations}", result.Computer.DistinguishedName);
        Assert.StartsWith((await directory.ReadDomainAsync()).Sid + "-", result.Computer.Sid, StringComparison.Ordinal);
        Assert.Equal(result.Computer, await directory.FindComputerAsync(name));
    }

    [Fact]
    public async Task An_existing_computer_is_a_conflict_unless_the_policy_reuses_computer_objects()
    {
        using var directory = new LdapActiveDirectoryDirectory(Destination.Options());
        var name = SambaDomains.NewComputerName("TWICE-");
        var first = await directory.EnsureComputerAccountAsync(new ComputerAccountRequest(name, Destination.Workstations, ReuseExisting: false));

        var refused = await directory.EnsureComputerAccountAsync(new ComputerAccountRequest(name, Destination.Workstations, ReuseExisting: false));
        var reused = await directory.EnsureComputerAccountAsync(new ComputerAccountRequest(name, Destination.Workstations, ReuseExisting: true));

        Assert.Equal(ComputerAccountOutcome.Refused, refused.Outcome);
        Assert.Equal(ComputerAccountRefusal.NameTakenByComputer, refused.Refusal);
        Assert.Contains("taken by another machine's account", refused.Message, StringComparison.Ordinal);
        Assert.Equal(ComputerAccountOutcome.Reused, reused.Outcome);
        Assert.Equal(first.Computer!.Sid, reused.Computer!.Sid);
    }

    [Fact]
    public async Task Reusing_a_computer_found_in_another_ou_leaves_it_there_and_says_so()
    {
        using var directory = new LdapActiveDirectoryDirectory(Destination.Options());

        var result = await directory.EnsureComputerAccountAsync(new ComputerAccountRequest("SRV-01", Destination.Workstations, ReuseExisting: true));

        Assert.Equal(ComputerAccountOutcome.Reused, result.Outcome);
        Assert.Equal($"CN=SRV-01,OU=Servers,{Destination.BaseDn}", result.Computer!.DistinguishedName);
        Assert.Contains("stays where it is", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_name_held_by_a_user_is_refused_even_when_reuse_is_allowed()
    {
        using var directory = new LdapActiveDirectoryDirectory(Destination.Options());

        var result = await directory.EnsureComputerAccountAsync(new ComputerAccountRequest("alice", Destination.Workstations, ReuseExisting: true));

        Assert.Equal(ComputerAccountRefusal.NameTakenByOtherObject, result.Refusal);
        Assert.Contains("taken by the user 'CN=Alice Archer", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_ou_is_refused_and_nothing_is_created()
    {
        using var directory = new LdapActiveDirectoryDirectory(Destination.Options());
        var name = SambaDomains.NewComputerName("NOOU-");

        var result = await directory.EnsureComputerAccountAsync(new ComputerAccountRequest(name, $"OU=Missing,{Destination.BaseDn}", ReuseExisting: false));

        Assert.Equal(ComputerAccountRefusal.OrganizationalUnitMissing, result.Refusal);
        Assert.Null(await directory.FindComputerAsync(name));
    }

    [Fact]
    public async Task An_account_without_rights_on_the_ou_is_refused_as_access_denied()
    {
        using var directory = new LdapActiveDirectoryDirectory(Destination.Options(user: SambaDomains.UnprivilegedUser));
        var name = SambaDomains.NewComputerName("DENY-");

        var result = await directory.EnsureComputerAccountAsync(new ComputerAccountRequest(name, Destination.Workstations, ReuseExisting: false));

        Assert.Equal(ComputerAccountRefusal.AccessDenied, result.Refusal);
        Assert.Null(await directory.FindComputerAsync(name));
    }

    [Theory]
    [InlineData("")]
    [InlineData("NAME-LONGER-THAN-15")]
    [InlineData("bad,name")]
    [InlineData("12345")]
    public async Task An_invalid_computer_name_is_refused_before_anything_is_asked(string name)
    {
        using var directory = new LdapActiveDirectoryDirectory(Destination.Options());

        var result = await directory.EnsureComputerAccountAsync(new ComputerAccountRequest(name, Destination.Workstations, ReuseExisting: true));

        Assert.Equal(ComputerAccountRefusal.InvalidName, result.Refusal);
    }
}
