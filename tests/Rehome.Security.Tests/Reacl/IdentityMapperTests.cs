using Rehome.Security.Reacl;
using Rehome.Security.Sids;

namespace Rehome.Security.Tests.Reacl;

public sealed class IdentityMapperTests
{
    private static readonly SecurityIdentifier SourceDomain = SecurityIdentifier.Parse("S-1-5-21-1-2-3");
    private static readonly SecurityIdentifier DestinationDomain = SecurityIdentifier.Parse("S-1-5-21-7-8-9");

    private static readonly DirectoryIdentity SourceAlice = new(SourceDomain.WithRid(1101), "alice", "alice@src.test", IdentityKind.User, "SRC");
    private static readonly DirectoryIdentity SourceBob = new(SourceDomain.WithRid(1102), "bob", "bob@src.test", IdentityKind.User, "SRC");
    private static readonly DirectoryIdentity SourceCarol = new(SourceDomain.WithRid(1103), "carol", null, IdentityKind.User, "SRC");
    private static readonly DirectoryIdentity SourceFinance = new(SourceDomain.WithRid(1201), "Finance", null, IdentityKind.Group, "SRC");
    private static readonly DirectoryIdentity SourceSales = new(SourceDomain.WithRid(1202), "Sales", null, IdentityKind.Group, "SRC");

    private static readonly DirectoryIdentity DestinationAlice = new(DestinationDomain.WithRid(2101), "alice.smith", "alice@dst.test", IdentityKind.User, "DST");
    private static readonly DirectoryIdentity DestinationRobert = new(DestinationDomain.WithRid(2102), "robert", "robert@dst.test", IdentityKind.User, "DST");
    private static readonly DirectoryIdentity DestinationCarol = new(DestinationDomain.WithRid(2103), "carol", "c.jones@dst.test", IdentityKind.User, "DST");
    private static readonly DirectoryIdentity DestinationFinance = new(DestinationDomain.WithRid(2201), "finance", null, IdentityKind.Group, "DST");
    private static readonly DirectoryIdentity DestinationSales = new(DestinationDomain.WithRid(2202), "Sales", "sales@dst.test", IdentityKind.User, "DST");

    private static readonly DirectoryIdentity[] Source = [SourceAlice, SourceBob, SourceCarol, SourceFinance, SourceSales];
    private static readonly DirectoryIdentity[] Destination = [DestinationAlice, DestinationRobert, DestinationCarol, DestinationFinance, DestinationSales];

    [Fact]
    public void Upn_prefixes_explicit_mappings_and_domain_mappings_each_map_their_identities()
    {
        var policy = new IdentityMappingPolicy
        {
            UpnPrefixAutoMapping = true,
            ExplicitMappings = [new ExplicitMapping("SRC\\bob", "robert@dst.test")],
            DomainMappings = [new DomainMapping("src", "DST")],
        };

        var result = IdentityMapper.Build(policy, Source, Destination);

        Assert.Equal(DestinationAlice.Sid, result.Map.Pairs[SourceAlice.Sid]);
        Assert.Equal(DestinationRobert.Sid, result.Map.Pairs[SourceBob.Sid]);
        Assert.Equal(DestinationCarol.Sid, result.Map.Pairs[SourceCarol.Sid]);
        Assert.Equal(DestinationFinance.Sid, result.Map.Pairs[SourceFinance.Sid]);
        Assert.Empty(result.Problems);
    }

    [Fact]
    public void An_explicit_mapping_wins_over_the_upn_prefix()
    {
        var policy = new IdentityMappingPolicy { UpnPrefixAutoMapping = true, ExplicitMappings = [new ExplicitMapping(SourceAlice.Sid.ToString(), "DST\\robert")] };

        var result = IdentityMapper.Build(policy, Source, Destination);

        Assert.Equal(DestinationRobert.Sid, result.Map.Pairs[SourceAlice.Sid]);
    }

    [Fact]
    public void Unmapped_identities_carry_the_reason()
    {
        var policy = new IdentityMappingPolicy { UpnPrefixAutoMapping = true, DomainMappings = [new DomainMapping("SRC", "DST")] };

        var result = IdentityMapper.Build(policy, Source, Destination);

        var sales = Assert.Single(result.Unmapped, identity => identity.Sid == SourceSales.Sid);
        Assert.Equal("no explicit mapping; DST\\Sales in the destination is a user, not a group", sales.Reason);
        var bob = Assert.Single(result.Unmapped, identity => identity.Sid == SourceBob.Sid);
        Assert.Equal("no explicit mapping; no destination user has the UPN prefix 'bob'; no user DST\\bob in the destination", bob.Reason);
    }

    [Fact]
    public void Without_rules_every_source_identity_is_unmapped()
    {
        var result = IdentityMapper.Build(new IdentityMappingPolicy(), Source, Destination);

        Assert.Equal(0, result.Map.Count);
        Assert.Equal(Source.Length, result.Unmapped.Count);
        Assert.StartsWith("no explicit mapping; UPN prefix auto-mapping is off", result.Unmapped[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Explicit_mappings_that_name_nobody_or_the_wrong_kind_are_reported()
    {
        var policy = new IdentityMappingPolicy
        {
            ExplicitMappings = [new ExplicitMapping("nobody", "robert"), new ExplicitMapping("Finance", "robert"), new ExplicitMapping("carol", "ghost@dst.test")],
        };

        var result = IdentityMapper.Build(policy, Source, Destination);

        Assert.Equal("source 'nobody' names no identity of that directory", Assert.Single(result.Problems).Reason);
        Assert.Equal("explicit mapping pairs a group with the user DST\\robert", result.Unmapped.Single(identity => identity.Sid == SourceFinance.Sid).Reason);
        Assert.Equal("explicit mapping: destination 'ghost@dst.test' names no identity of that directory", result.Unmapped.Single(identity => identity.Sid == SourceCarol.Sid).Reason);
    }

    [Fact]
    public void An_ambiguous_upn_prefix_maps_nobody()
    {
        DirectoryIdentity[] destination = [DestinationAlice, DestinationAlice with { Sid = DestinationDomain.WithRid(2999), SamAccountName = "alice2", UserPrincipalName = "ALICE@other.test" }];

        var result = IdentityMapper.Build(new IdentityMappingPolicy { UpnPrefixAutoMapping = true }, [SourceAlice], destination);

        Assert.Contains("UPN prefix 'alice' is ambiguous", Assert.Single(result.Unmapped).Reason, StringComparison.Ordinal);
    }
}
