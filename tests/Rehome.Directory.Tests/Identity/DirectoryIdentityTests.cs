using Rehome.Directory.ActiveDirectory;
using Rehome.Directory.Identity;
using Rehome.Directory.Tests.ActiveDirectory;

namespace Rehome.Directory.Tests.Identity;

public sealed class DirectoryIdentityTests
{
    [Fact]
    public async Task Users_and_groups_of_both_domains_load_with_their_own_sids_and_domain_names()
    {
        using var source = new LdapActiveDirectoryDirectory(SambaDomains.Source.Options(pageSize: 25));
        using var destination = new LdapActiveDirectoryDirectory(SambaDomains.Destination.Options(pageSize: 25));

        var before = DateTimeOffset.UtcNow;
        var snapshot = await DirectoryIdentitySnapshot.LoadAsync(source, destination);
        var (sourceIdentities, destinationIdentities) = (snapshot.Source, snapshot.Destination);

        var sourceUser = sourceIdentities.Single(identity => identity.SamAccountName == "user07");
        var destinationUser = destinationIdentities.Single(identity => identity.SamAccountName == "user07");
        Assert.Equal(new DirectoryIdentity(DirectoryIdentityKind.User, sourceUser.Sid, "user07", "user07@src.test", "User 07", "SRC"), sourceUser);
        Assert.Equal("user07@dst.test", destinationUser.UserPrincipalName);
        Assert.Equal("DST", destinationUser.DomainName);
        Assert.StartsWith((await source.ReadDomainAsync()).Sid + "-", sourceUser.Sid, StringComparison.Ordinal);
        Assert.StartsWith((await destination.ReadDomainAsync()).Sid + "-", destinationUser.Sid, StringComparison.Ordinal);

        var finance = sourceIdentities.Single(identity => identity.SamAccountName == "Finance");
        Assert.Equal(DirectoryIdentityKind.Group, finance.Kind);
        Assert.Contains(destinationIdentities, identity => identity is { SamAccountName: "Finance", Kind: DirectoryIdentityKind.Group });
        // Computers are not identities of the SID map, and every SID is listed once.
        Assert.DoesNotContain(sourceIdentities, identity => identity.SamAccountName?.EndsWith('$') == true);
        Assert.Equal(sourceIdentities.Count, sourceIdentities.Select(identity => identity.Sid).Distinct().Count());
        Assert.InRange(snapshot.LoadedAt, before, DateTimeOffset.UtcNow);
    }
}
