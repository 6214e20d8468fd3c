using Rehome.Security.Conditions;
using Rehome.Security.Descriptors;
using Rehome.Security.Sddl;
using Rehome.Security.Sids;
using Rehome.Security.Tests.Support;

namespace Rehome.Security.Tests.Conditions;

public sealed class ResourceAttributeTests
{
    private static readonly SecurityIdentifier Domain = SecurityIdentifier.Parse("S-1-5-21-1-2-3");

    // Hand-encoded CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1 (MS-DTYP 2.4.10.1): name offset, type 3 (string), reserved,
    // flags, two values and their offsets (40, 56), then the zero-terminated UTF-16 name and values.
    [Fact]
    public void A_string_attribute_encodes_as_the_specification_lays_it_out()
    {
        const string hex = "18000000 0300 0000 00000000 02000000 28000000 38000000"
            + " 500072006f006a0065006300740000 00"
            + " 570069006e0064006f00770073000000"
            + " 530051004c000000";

        var attribute = ResourceAttribute.Parse("(\"Project\",TS,0x0,\"Windows\",\"SQL\")");

        Assert.Equal(Hex.Bytes(hex), attribute.ToBinary());
        Assert.Equal("(\"Project\",TS,0x0,\"Windows\",\"SQL\")", ResourceAttribute.FromBinary(Hex.Bytes(hex)).ToSddl());
    }

    [Theory]
    [InlineData("(\"Secrecy\",TU,0x3,1,18446744073709551615)")]
    [InlineData("(\"Level\",TI,0x10000,-5,9223372036854775807,-9223372036854775808)")]
    [InlineData("(\"Owners\",TD,0x0,BA,DA,S-1-5-21-9-9-9-1105)")]
    [InlineData("(\"Blob\",TX,0x0,#0102ff,#)")]
    [InlineData("(\"Flag\",TB,0x0,0,1)")]
    [InlineData("(\"Empty\",TS,0x0)")]
    public void Every_value_type_round_trips_between_sddl_and_binary(string sddl)
    {
        var binary = ResourceAttribute.Parse(sddl, Domain).ToBinary();

        Assert.Equal(sddl, ResourceAttribute.FromBinary(binary).ToSddl(Domain));
        Assert.Equal(0, binary.Length % 4);
    }

    [Fact]
    public void Sid_values_may_also_be_written_as_in_conditions()
    {
        Assert.Equal(WellKnownSids.BuiltinAdministrators, ResourceAttribute.Parse("(\"Owners\",TD,0x0,SID(BA))").Values[0]);
    }

    [Fact]
    public void Generated_attributes_round_trip_in_sacls()
    {
        var generator = new DescriptorGenerator(seed: 21);
        var attributes = new ConditionGenerator(new Random(22), generator.NextSid);
        for (var index = 0; index < 2000; index++)
        {
            var ace = new Ace { Type = AceType.SystemResourceAttribute, Flags = AceFlags.ContainerInherit, Sid = WellKnownSids.Everyone, ApplicationData = attributes.NextResourceAttribute().ToBinary() };
            var descriptor = new SecurityDescriptor { Sacl = new Acl { Aces = { ace } } };

            var sddl = SddlWriter.Write(descriptor);

            Assert.Equal(descriptor.ToBinary(), SddlParser.Parse(sddl).ToBinary());
        }
    }

    [Theory]
    [InlineData("1800000003000000", 0)]
    [InlineData("10000000 0900 0000 00000000 00000000 41000000", 4)]
    [InlineData("ff000000 0300 0000 00000000 00000000 41000000", 0)]
    [InlineData("10000000 0300 0000 00000000 ffffff0f 41000000", 12)]
    [InlineData("14000000 0300 0000 00000000 01000000 18000000 41004200 43004400", 16)]
    [InlineData("14000000 0100 0000 00000000 01000000 18000000 41000000 0102", 16)]
    [InlineData("14000000 0500 0000 00000000 01000000 18000000 41000000 10000000 0101000000000005", 24)]
    public void Malformed_binary_is_refused_with_its_offset(string hex, int offset)
    {
        var error = Assert.Throws<SecurityFormatException>(() => ResourceAttribute.FromBinary(Hex.Bytes(hex)));

        Assert.Equal(offset, error.Offset);
    }

    [Theory]
    [InlineData("S:(RA;;;;;WD;(\"Project\",TS,0x0,\"Windows))", 13)]
    [InlineData("S:(RA;;;;;WD;(Project,TS,0x0))", 14)]
    [InlineData("S:(RA;;;;;WD;(\"Project\",TQ,0x0))", 24)]
    [InlineData("S:(RA;;;;;WD;(\"Project\",TB,0x0,2))", 31)]
    [InlineData("S:(RA;;;;;WD;(\"Project\",TI,0x0,\"a\"))", 31)]
    [InlineData("S:(RA;;;;;WD;(\"Project\",TS,0x100000000))", 27)]
    [InlineData("S:(RA;;;;;WD;(\"Project\",TS,0x0)x)", 31)]
    public void Malformed_sddl_is_refused_with_its_position(string sddl, int position)
    {
        var error = Assert.Throws<SecurityFormatException>(() => SddlParser.Parse(sddl));

        Assert.Equal(position, error.Position);
    }
}
