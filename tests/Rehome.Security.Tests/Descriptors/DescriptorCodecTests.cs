using Rehome.Security.Descriptors;
using Rehome.Security.Sddl;
using Rehome.Security.Sids;
using Rehome.Security.Stores;
using Rehome.Security.Tests.Support;

namespace Rehome.Security.Tests.Descriptors;

public sealed class DescriptorCodecTests
{
    [Fact]
    public void A_file_descriptor_ntfs_3g_wrote_decodes_and_writes_back_byte_for_byte()
    {
        var bytes = Hex.Bytes(GoldenDescriptors.NtfsNewFile);

        var descriptor = SecurityDescriptor.FromBinary(bytes);

        Assert.Equal("O:BAG:BAD:P(A;NP;0x1f019f;;;BA)(A;NP;FR;;;BA)(A;NP;FR;;;WD)(A;NP;0x1f01bf;;;BA)(A;NP;0x1f01bf;;;SY)", SddlWriter.Write(descriptor));
        Assert.Equal(bytes, descriptor.ToBinary());
    }

    [Fact]
    public void A_directory_descriptor_ntfs_3g_wrote_decodes_and_writes_back_byte_for_byte()
    {
        var bytes = Hex.Bytes(GoldenDescriptors.NtfsNewDirectory);

        var descriptor = SecurityDescriptor.FromBinary(bytes);

        Assert.Equal(6, descriptor.Dacl!.Aces.Count);
        Assert.Equal(AceFlags.ObjectInherit | AceFlags.InheritOnly, descriptor.Dacl.Aces[0].Flags);
        Assert.Equal(bytes, descriptor.ToBinary());
    }

    [Fact]
    public void A_descriptor_samba_tool_wrote_matches_its_sddl()
    {
        var attribute = Hex.Bytes(GoldenDescriptors.SambaNtaclVersion1);

        var descriptor = SecurityDescriptor.FromBinary(SambaNtacl.Decode(attribute));

        Assert.Equal(SddlWriter.Write(SddlParser.Parse(GoldenDescriptors.SambaNtaclSddl)), SddlWriter.Write(descriptor));
        Assert.Equal(4, descriptor.Dacl!.Revision);
    }

    [Fact]
    public void A_samba_attribute_encodes_back_byte_for_byte()
    {
        var attribute = Hex.Bytes(GoldenDescriptors.SambaNtaclVersion1);

        Assert.Equal(attribute, SambaNtacl.Encode(SambaNtacl.Decode(attribute)));
    }

    [Fact]
    public void The_MS_DTYP_example_descriptor_parses_with_its_domain()
    {
        var domain = SecurityIdentifier.Parse("S-1-5-21-397955417-626881126-188441444");

        var descriptor = SddlParser.Parse("O:AOG:DAD:(A;;RPWPCCDCLCSWRCWDWOGA;;;S-1-0-0)", domain);

        Assert.Equal(SecurityIdentifier.Parse("S-1-5-32-548"), descriptor.Owner);
        Assert.Equal(domain.WithRid(512), descriptor.Group);
        Assert.Equal(0x100E003Fu, descriptor.Dacl!.Aces[0].AccessMask);
        Assert.Equal("O:AOG:DAD:(A;;CCDCLCSWRPWPRCWDWOGA;;;S-1-0-0)", SddlWriter.Write(descriptor, domain));
    }

    [Fact]
    public void Generated_descriptors_round_trip_through_binary()
    {
        var generator = new DescriptorGenerator(seed: 1);
        for (var index = 0; index < 2000; index++)
        {
            var descriptor = generator.NextBinaryDescriptor();

            var bytes = descriptor.ToBinary();
            var decoded = SecurityDescriptor.FromBinary(bytes);

            Assert.Equal(descriptor, decoded);
            Assert.Equal(bytes, decoded.ToBinary());
        }
    }

    [Fact]
    public void Every_ace_type_up_to_access_filter_decodes_with_its_sid()
    {
        var sid = SecurityIdentifier.Parse("S-1-5-21-1-2-3-1000");
        for (var type = 0; type <= 0x15; type++)
        {
            if (type == (int)AceType.AccessAllowedCompound)
            {
                continue;
            }

            var ace = new Ace
            {
                Type = (AceType)type,
                AccessMask = 0x1234,
                Sid = sid,
                ObjectType = AceTypes.LayoutOf((AceType)type) == AceLayout.Object ? Guid.NewGuid() : null,
                ApplicationData = new byte[] { 0x61, 0x72, 0x74, 0x78 },
            };
            var bytes = new byte[ace.BinaryLength];
            ace.Write(bytes);

            var decoded = Ace.Read(bytes, 0, out var size);

            Assert.Equal(bytes.Length, size);
            Assert.Equal(ace, decoded);
            Assert.Equal(sid, decoded.Sid);
        }
    }

    [Fact]
    public void Unknown_ace_types_are_kept_byte_for_byte()
    {
        var bytes = Hex.Bytes("0200180001000000" + "2a0310001122334455667788aabbccdd");

        var acl = Acl.Read(bytes, 0);
        var written = new byte[acl.BinaryLength];
        acl.Write(written);

        Assert.True(acl.Aces[0].IsRaw);
        Assert.Equal(Hex.Bytes("1122334455667788aabbccdd"), acl.Aces[0].RawBody.ToArray());
        Assert.Equal(bytes, written);
    }

    [Fact]
    public void Sizes_and_offsets_are_recomputed_on_write()
    {
        var descriptor = SecurityDescriptor.FromBinary(Hex.Bytes(GoldenDescriptors.NtfsNewFile));
        descriptor.Dacl!.Aces.RemoveAt(0);
        descriptor.Owner = SecurityIdentifier.Parse("S-1-5-21-1-2-3-1000");

        var bytes = descriptor.ToBinary();

        Assert.Equal(descriptor, SecurityDescriptor.FromBinary(bytes));
        Assert.Equal(bytes.Length, descriptor.BinaryLength);
        Assert.Equal(4, SecurityDescriptor.FromBinary(bytes).Dacl!.Aces.Count);
    }

    [Theory]
    [InlineData("D:(A;;FA;;;BA)(D;;FA;;;WD)", 1)]
    [InlineData("D:(A;ID;FA;;;BA)(A;;FA;;;WD)", 1)]
    [InlineData("D:(D;;FA;;;WD)(A;;FA;;;BA)(A;ID;FA;;;SY)(D;ID;FA;;;BU)", -1)]
    [InlineData("D:(OD;;CR;bf967a86-0de6-11d0-a285-00aa003049e2;;WD)(OA;;RP;;;BA)(A;ID;FA;;;SY)", -1)]
    public void Canonical_order_is_explicit_deny_then_explicit_allow_then_inherited(string sddl, int firstOutOfOrder)
    {
        var acl = SddlParser.Parse(sddl).Dacl!;

        Assert.Equal(firstOutOfOrder, acl.FindFirstNonCanonicalAce());
        Assert.Equal(firstOutOfOrder < 0, acl.IsCanonical);
    }
}
