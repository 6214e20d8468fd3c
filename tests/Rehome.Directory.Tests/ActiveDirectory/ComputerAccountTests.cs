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
    public async Task A_one_time_password_set_on_a_new_computer_account_lets_that_account_bind()
    {
        using var directory = new LdapActiveDirectoryDirectory(Destination.Options());
        var name = SambaDomains.NewComputerName("OTP-");
        var created = await directory.EnsureComputerAccountAsync(new ComputerAccountRequest(name, Destination.Workstations, ReuseExisting: false));
        var password = MachinePasswords.Generate();

        await directory.SetComputerPasswordAsync(created.Computer!.DistinguishedName, password);

        // The device proves the password the same way: by authenticating as the computer account.
        using var asComputer = new LdapActiveDirectoryDirectory(Destination.Options(user: name + "$", password: password));
        Assert.Equal(Destination.DnsName, (await asComputer.ReadDomainAsync()).DnsName, ignoreCase: true);
        using var withAnotherPassword = new LdapActiveDirectoryDirectory(Destination.Options(user: name + "$", password: MachinePasswords.Generate()));
        await Assert.ThrowsAnyAsync<Exception>(() => withAnotherPassword.ReadDomainAsync());
    }

    [Fact]
    public async Task Setting_a_computer_password_without_the_right_fails_and_never_names_the_password()
    {
        using var administrator = new LdapActiveDirectoryDirectory(Destination.Options());
        var created = await administrator.EnsureComputerAccountAsync(
            new ComputerAccountRequest(SambaDomains.NewComputerName("OTPDENY-"), Destination.Workstations, ReuseExisting: false));
        using var unprivileged = new LdapActiveDirectoryDirectory(Destination.Options(user: SambaDomains.UnprivilegedUser));
        var password = MachinePasswords.Generate();

        var refused = await Assert.ThrowsAsync<ActiveDirectoryException>(() => unprivileged.SetComputerPasswordAsync(created.Computer!.DistinguishedName, password));

        Assert.Contains("may not reset the password", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(password, refused.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_computer_password_is_never_sent_over_plain_LDAP()
    {
        using var directory = new LdapActiveDirectoryDirectory(Destination.Options(ldaps: false));

        var refused = await Assert.ThrowsAsync<ActiveDirectoryException>(() => directory.SetComputerPasswordAsync($"CN=PC-01,{Destination.Workstations}", "x"));

        Assert.Contains("LDAPS", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void One_time_machine_passwords_are_long_random_and_have_every_character_class()
    {
        var passwords = Enumerable.Range(0, 50).Select(_ => MachinePasswords.Generate()).ToList();

        Assert.Equal(50, passwords.Distinct(StringComparer.Ordinal).Count());
        Assert.All(passwords, p =>
        {
            Assert.Equal(MachinePasswords.Length, p.Length);
            Assert.Contains(p, char.IsAsciiLetterUpper);
            Assert.Contains(p, char.IsAsciiLetterLower);
            Assert.Contains(p, char.IsAsciiDigit);
            Assert.Contains(p, c => !char.IsAsciiLetterOrDigit(c));
            Assert.DoesNotContain(p, c => c is '"' or '\\' or ' ');
        });
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
