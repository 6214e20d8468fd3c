using Rehome.Security.Sids;
using Rehome.Security.Tests.Support;

namespace Rehome.Security.Tests.Sids;

public sealed class SecurityIdentifierTests
{
    [Fact]
    public void Builtin_administrators_has_the_binary_form_of_MS_DTYP()
    {
        var sid = SecurityIdentifier.Parse("S-1-5-32-544");

        Assert.Equal(Hex.Bytes("01020000000000052000000020020000"), sid.ToArray());
        Assert.Equal("S-1-5-32-544", SecurityIdentifier.FromBinary(sid.Binary).ToString());
    }

    [Theory]
    [InlineData("S-1-0-0")]
    [InlineData("S-1-5-21-3623811015-3361044348-30300820-1013")]
    [InlineData("S-1-0x123456789ABC-1-2")]
    [InlineData("S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15")]
    [InlineData("S-1-16-12288")]
    public void String_and_binary_forms_round_trip(string text)
    {
        var sid = SecurityIdentifier.Parse(text);

        Assert.Equal(text, sid.ToString());
        Assert.Equal(sid, SecurityIdentifier.FromBinary(sid.Binary));
    }

    [Fact]
    public void Domain_and_rid_of_an_account_sid()
    {
        var sid = SecurityIdentifier.Parse("S-1-5-21-1-2-3-1105");

        Assert.Equal(SecurityIdentifier.Parse("S-1-5-21-1-2-3"), sid.AccountDomain);
        Assert.Equal(1105u, sid.Rid);
        Assert.Equal(sid, sid.AccountDomain!.WithRid(1105));
        Assert.Null(WellKnownSids.LocalSystem.AccountDomain);
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("X-1-5", 0)]
    [InlineData("S-2-5", 2)]
    [InlineData("S-1-", 4)]
    [InlineData("S-1-5-32-", 8)]
    [InlineData("S-1-5-21-99999999999", 9)]
    [InlineData("S-1-281474976710656-1", 4)]
    [InlineData("S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16", 42)]
    public void Bad_strings_are_refused_with_their_position(string text, int position)
    {
        var error = Assert.Throws<SecurityFormatException>(() => SecurityIdentifier.Parse(text));

        Assert.Equal(position, error.Position);
    }

    [Theory]
    [InlineData("0102000000000005200000002002", 0)]
    [InlineData("0201000000000005", 0)]
    [InlineData("0110000000000005", 1)]
    [InlineData("010200000000000520000000200200000000", 16)]
    public void Bad_binary_is_refused_with_its_offset(string hex, int offset)
    {
        var error = Assert.Throws<SecurityFormatException>(() => SecurityIdentifier.FromBinary(Hex.Bytes(hex)));

        Assert.Equal(offset, error.Offset);
    }

    [Fact]
    public void Aliases_resolve_in_both_directions_and_domain_aliases_need_a_domain()
    {
        var domain = SecurityIdentifier.Parse("S-1-5-21-1-2-3");

        Assert.Equal(WellKnownSids.BuiltinAdministrators, WellKnownSids.FromAlias("BA", null));
        Assert.Equal("SY", WellKnownSids.ToAlias(WellKnownSids.LocalSystem, null));
        Assert.Null(WellKnownSids.FromAlias("DA", null));
        Assert.Equal(domain.WithRid(512), WellKnownSids.FromAlias("DA", domain));
        Assert.Equal("DU", WellKnownSids.ToAlias(domain.WithRid(513), domain));
        Assert.Null(WellKnownSids.ToAlias(domain.WithRid(513), null));
    }
}
