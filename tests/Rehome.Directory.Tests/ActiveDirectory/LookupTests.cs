using Rehome.Directory.ActiveDirectory;

namespace Rehome.Directory.Tests.ActiveDirectory;

public sealed class LookupTests
{
    [Fact]
    public async Task A_user_is_found_by_account_name_upn_domain_name_and_sid_as_the_same_account()
    {
        using var directory = new LdapActiveDirectoryDirectory(SambaDomains.Source.Options());

        var byName = await directory.FindAccountAsync("alice");
        Assert.NotNull(byName);
        var byUpn = await directory.FindAccountAsync("alice@src.test");
        var byDomainName = await directory.FindAccountAsync(@"SRC\alice");
        var bySid = await directory.FindAccountAsync(byName.Sid);

        Assert.Equal(ActiveDirectoryAccountKind.User, byName.Kind);
        Assert.Equal("alice@src.test", byName.UserPrincipalName);
        Assert.Equal("Alice Archer", byName.DisplayName);
        Assert.Equal($"CN=Alice Archer,OU=Staff,{SambaDomains.Source.BaseDn}", byName.DistinguishedName);
        Assert.StartsWith((await directory.ReadDomainAsync()).Sid + "-", byName.Sid, StringComparison.Ordinal);
        Assert.Equal(byName, byUpn);
        Assert.Equal(byName, byDomainName);
        Assert.Equal(byName, bySid);
    }

    [Fact]
    public async Task Groups_and_computers_are_found_with_their_kind()
    {
        using var directory = new LdapActiveDirectoryDirectory(SambaDomains.Source.Options());

        var group = await directory.FindAccountAsync("Finance");
        var computer = await directory.FindAccountAsync("PC-07");
        var computerDetails = await directory.FindComputerAsync("PC-07");

        Assert.Equal(ActiveDirectoryAccountKind.Group, group?.Kind);
        Assert.Null(group?.UserPrincipalName);
        Assert.Equal(ActiveDirectoryAccountKind.Computer, computer?.Kind);
        Assert.Equal("PC-07$", computer?.SamAccountName);
        Assert.NotNull(computerDetails);
        Assert.Equal("PC-07", computerDetails.Name);
        Assert.Equal("pc-07.src.test", computerDetails.DnsHostName);
        Assert.Equal(computer!.Sid, computerDetails.Sid);
    }

    [Fact]
    public async Task An_unknown_name_is_not_found_and_filter_characters_in_it_change_nothing()
    {
        using var directory = new LdapActiveDirectoryDirectory(SambaDomains.Source.Options());

        Assert.Null(await directory.FindAccountAsync("nobody-here"));
        Assert.Null(await directory.FindAccountAsync("*"));
        Assert.Null(await directory.FindAccountAsync("alice)(sAMAccountName=*"));
    }

    [Fact]
    public async Task Listing_with_small_pages_returns_every_user_once_like_one_large_page()
    {
        using var smallPages = new LdapActiveDirectoryDirectory(SambaDomains.Source.Options(pageSize: 7));
        using var onePage = new LdapActiveDirectoryDirectory(SambaDomains.Source.Options(pageSize: 1000));

        var paged = await smallPages.ListAccountsAsync(ActiveDirectoryAccountKind.User).ToListAsync();
        var whole = await onePage.ListAccountsAsync(ActiveDirectoryAccountKind.User).ToListAsync();

        // 60 numbered users, alice, helpdesk, Administrator, Guest, krbtgt at least.
        Assert.True(paged.Count >= 65, $"only {paged.Count} users");
        Assert.Equal(paged.Count, paged.Select(user => user.Sid).Distinct().Count());
        Assert.Equal(whole.Select(user => user.Sid).Order(), paged.Select(user => user.Sid).Order());
        Assert.All(paged, user => Assert.Equal(ActiveDirectoryAccountKind.User, user.Kind));
    }

    [Fact]
    public async Task Computers_under_an_ou_are_discovered_and_nothing_outside_it()
    {
        var source = SambaDomains.Source;
        using var directory = new LdapActiveDirectoryDirectory(source.Options(pageSize: 9));

        var computers = await directory.ListComputersAsync(source.Workstations).ToListAsync();

        Assert.Equal(Enumerable.Range(1, 40).Select(number => $"PC-{number:00}"), computers.Select(computer => computer.Name).Order());
        Assert.All(computers, computer => Assert.EndsWith("," + source.Workstations, computer.DistinguishedName, StringComparison.Ordinal));
        Assert.All(computers, computer => Assert.True(computer.Enabled));
        Assert.DoesNotContain(computers, computer => computer.Name == "SRV-01");
    }

    [Fact]
    public async Task Discovery_under_an_ou_that_does_not_exist_says_so()
    {
        using var directory = new LdapActiveDirectoryDirectory(SambaDomains.Source.Options());

        var exception = await Assert.ThrowsAsync<ActiveDirectoryException>(
            () => directory.ListComputersAsync($"OU=Nowhere,{SambaDomains.Source.BaseDn}").ToListAsync().AsTask());

        Assert.Contains("OU=Nowhere", exception.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", exception.Message, StringComparison.Ordinal);
    }
}
