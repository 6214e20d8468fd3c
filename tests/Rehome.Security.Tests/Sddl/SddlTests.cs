using Rehome.Security.Descriptors;
using Rehome.Security.Sddl;
using Rehome.Security.Sids;
using Rehome.Security.Tests.Support;

namespace Rehome.Security.Tests.Sddl;

public sealed class SddlTests
{
    private static readonly SecurityIdentifier Domain = SecurityIdentifier.Parse("S-1-5-21-1-2-3");

    [Theory]
    [InlineData("O:BAG:SYD:PAI(D;OICI;FA;;;BG)(A;OICI;FA;;;BA)(A;OICIIO;GA;;;CO)(A;OICIID;0x1200a9;;;BU)")]
    [InlineData("O:DAG:DUD:AI(OA;CI;RPWP;bf967a86-0de6-11d0-a285-00aa003049e2;bf967aba-0de6-11d0-a285-00aa003049e2;DA)")]
    [InlineData("D:NO_ACCESS_CONTROL")]
    [InlineData("D:")]
    [InlineData("O:SYG:SYD:(A;;KA;;;SY)(A;CI;KR;;;BU)S:(AU;SAFA;KA;;;WD)(ML;;NWNR;;;HI)")]
    [InlineData("D:(XA;;FX;;;WD;((@User.Title == \"PM\") && ((@User.Division == \"Finance\") || (@User.Division == \" Sales\"))))")]
    [InlineData("S:(RA;CI;;;;WD;(\"Project\",TS,0x0,\"Windows\",\"SQL\"))")]
    [InlineData("D:PAR(A;;0x12019f;;;AU)(A;CR;GWGR;;;S-1-5-21-9-8-7-1105)")]
    [InlineData("S:PAI(SP;;;;;S-1-17-1)(TL;;0x200;;;S-1-19-512-8192)")]
    public void Windows_style_sddl_prints_back_unchanged(string sddl)
    {
        var descriptor = SddlParser.Parse(sddl, Domain);

        Assert.Equal(sddl, SddlWriter.Write(descriptor, Domain));
    }

    // Strings as Windows prints them: `sc sdshow wuauserv` (Windows 10/11), Get-Acl C:\Windows (the TrustedInstaller
    // service SID owns it; BU and AC get GXGR on children), a registry key's default, an ACE of every single-bit word.
    [Theory]
    [InlineData("D:(A;;CCLCSWRPLORC;;;AU)(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;BA)(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;SY)S:(AU;FA;CCDCLCSWRPWPDTLOSDRCWDWO;;;WD)")]
    [InlineData("O:S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464G:S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464D:PAI(A;;FA;;;S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464)(A;CIIO;GA;;;S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464)(A;;0x1301bf;;;SY)(A;OICIIO;GA;;;SY)(A;;0x1301bf;;;BA)(A;OICIIO;GA;;;BA)(A;;0x1200a9;;;BU)(A;OICIIO;GXGR;;;BU)(A;OICIIO;GA;;;CO)(A;;0x1200a9;;;AC)(A;OICIIO;GXGR;;;AC)")]
    [InlineData("O:BAG:SYD:PAI(A;CIIO;KA;;;CO)(A;CI;KA;;;SY)(A;CI;KA;;;BA)(A;CI;KR;;;BU)(A;CI;KR;;;AC)")]
    [InlineData("D:(A;;CCDCLCSWRPWPDTLOCRSDRCWDWOGAGXGWGR;;;WD)")]
    public void Rights_words_print_in_ascending_bit_order_as_windows_prints_them(string windows)
    {
        var descriptor = SddlParser.Parse(windows);

        Assert.Equal(windows, SddlWriter.Write(descriptor));
    }

    [Fact]
    public void Rights_words_given_in_any_order_print_in_the_order_windows_uses()
    {
        var descriptor = SddlParser.Parse("D:(A;;WOWDRCSDCRLODTWPRPSWLCDCCC;;;SY)(A;OICIIO;GRGX;;;BU)");

        Assert.Equal("D:(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;SY)(A;OICIIO;GXGR;;;BU)", SddlWriter.Write(descriptor));
    }

    [Fact]
    public void Rights_aliases_hex_and_decimal_masks_give_the_same_access_mask()
    {
        var aliases = SddlParser.Parse("D:(A;;FA;;;WD)").Dacl!.Aces[0];
        var hex = SddlParser.Parse("D:(A;;0x1F01FF;;;WD)").Dacl!.Aces[0];
        var number = SddlParser.Parse("D:(A;;2032127;;;WD)").Dacl!.Aces[0];

        Assert.Equal(0x1F01FFu, aliases.AccessMask);
        Assert.Equal(aliases, hex);
        Assert.Equal(aliases, number);
    }

    [Fact]
    public void Object_guids_and_conditions_are_kept()
    {
        var ace = SddlParser.Parse("D:(ZA;;CR;00299570-246d-11d0-a768-00aa006e0529;;WD;(Member_of {SID(BA)}))").Dacl!.Aces[0];

        Assert.Equal(AceType.AccessAllowedCallbackObject, ace.Type);
        Assert.Equal(Guid.Parse("00299570-246d-11d0-a768-00aa006e0529"), ace.ObjectType);
        Assert.Equal("(ZA;;CR;00299570-246d-11d0-a768-00aa006e0529;;WD;(Member_of {SID(BA)}))", SddlWriter.WriteAce(ace));
    }

    [Fact]
    public void Generated_descriptors_round_trip_through_sddl()
    {
        var generator = new DescriptorGenerator(seed: 2);
        for (var index = 0; index < 2000; index++)
        {
            var descriptor = generator.NextSddlDescriptor();

            var sddl = SddlWriter.Write(descriptor);

            var parsed = Record.Exception(() => SddlParser.Parse(sddl)) is { } error ? throw new InvalidOperationException(sddl, error) : SddlParser.Parse(sddl);
            Assert.True(descriptor.Equals(parsed), sddl);
        }
    }

    [Theory]
    [InlineData("X", 0)]
    [InlineData("O:ZZ", 2)]
    [InlineData("O:DA", 2)]
    [InlineData("O:BAO:BA", 4)]
    [InlineData("D:(A;;FA;;;WD", 13)]
    [InlineData("D:(Q;;FA;;;WD)", 3)]
    [InlineData("D:(A;XX;FA;;;WD)", 5)]
    [InlineData("D:(A;O;FA;;;WD)", 5)]
    [InlineData("D:(A;;QQ;;;WD)", 6)]
    [InlineData("D:(A;;0x1FFFFFFFF;;;WD)", 6)]
    [InlineData("D:(A;;FA;not-a-guid;;WD)", 9)]
    [InlineData("D:(A;;FA;bf967a86-0de6-11d0-a285-00aa003049e2;;WD)", 6)]
    [InlineData("D:(A;;FA;;;S-1-5-)", 16)]
    [InlineData("D:(XA;;FA;;;WD;(@User.x == \"a)", 15)]
    [InlineData("D:(XA;;FA;;;WD;((a)", 15)]
    [InlineData("D:Q(A;;FA;;;WD)", 2)]
    [InlineData("D:NO_ACCESS_CONTROL(A;;FA;;;WD)", 31)]
    [InlineData("D:(A;;FA;;;WDX)", 13)]
    [InlineData("D:(A;;FA;;", 10)]
    public void Bad_sddl_is_refused_with_its_position(string sddl, int position)
    {
        var error = Assert.Throws<SecurityFormatException>(() => SddlParser.Parse(sddl));

        Assert.Equal(position, error.Position);
    }
}
