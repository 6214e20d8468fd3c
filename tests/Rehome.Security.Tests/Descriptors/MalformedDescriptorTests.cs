using System.Buffers.Binary;
using Rehome.Security.Descriptors;
using Rehome.Security.Reacl;
using Rehome.Security.Sids;
using Rehome.Security.Tests.Support;

namespace Rehome.Security.Tests.Descriptors;

public sealed class MalformedDescriptorTests
{
    private static byte[] Golden() => Hex.Bytes(GoldenDescriptors.NtfsNewFile);

    [Fact]
    public void Every_truncation_is_refused_with_an_offset()
    {
        var bytes = Golden();
        for (var length = 0; length < bytes.Length; length++)
        {
            var error = Assert.Throws<SecurityFormatException>(() => SecurityDescriptor.FromBinary(bytes.AsSpan(0, length)));

            Assert.NotNull(error.Offset);
        }
    }

    [Fact]
    public void An_owner_offset_past_the_end_names_the_owner_field()
    {
        var bytes = Golden();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 5000);

        var error = Assert.Throws<SecurityFormatException>(() => SecurityDescriptor.FromBinary(bytes));

        Assert.Equal(4, error.Offset);
    }

    [Fact]
    public void Overlapping_parts_are_refused()
    {
        var bytes = Golden();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), 0x14 + 8 + 8); // group inside the DACL's first ACE

        var error = Assert.Throws<SecurityFormatException>(() => SecurityDescriptor.FromBinary(bytes));

        Assert.Contains("overlaps", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_offset_into_the_header_is_refused()
    {
        var bytes = Golden();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), 12);

        Assert.Equal(16, Assert.Throws<SecurityFormatException>(() => SecurityDescriptor.FromBinary(bytes)).Offset);
    }

    [Fact]
    public void An_ace_count_larger_than_the_acl_is_refused()
    {
        var bytes = Golden();
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(0x14 + 4), 6);

        Assert.Equal(0x14 + 4, Assert.Throws<SecurityFormatException>(() => SecurityDescriptor.FromBinary(bytes)).Offset);
    }

    [Fact]
    public void An_ace_of_size_zero_is_refused_rather_than_looped_on()
    {
        var bytes = Golden();
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(0x14 + 8 + 2), 0);

        Assert.Equal(0x14 + 8 + 2, Assert.Throws<SecurityFormatException>(() => SecurityDescriptor.FromBinary(bytes)).Offset);
    }

    [Fact]
    public void An_acl_size_past_the_end_is_refused()
    {
        var bytes = Golden();
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(0x14 + 2), 0x7000);

        Assert.Equal(0x14 + 2, Assert.Throws<SecurityFormatException>(() => SecurityDescriptor.FromBinary(bytes)).Offset);
    }

    [Fact]
    public void A_descriptor_that_is_not_self_relative_is_refused()
    {
        var bytes = Golden();
        bytes[3] &= 0x7F;

        Assert.Equal(2, Assert.Throws<SecurityFormatException>(() => SecurityDescriptor.FromBinary(bytes)).Offset);
    }

    [Fact]
    public void Random_corruption_gives_a_format_error_or_a_valid_descriptor_in_the_reader_and_the_translator()
    {
        var random = new Random(4);
        var generator = new DescriptorGenerator(seed: 5);
        var map = new SidMap([new(WellKnownSids.BuiltinAdministrators, DescriptorGenerator.DestinationDomain.WithRid(512))]);
        var translator = new DescriptorTranslator(map, new TranslationOptions { IncludeSacl = true, TranslateInheritedAces = true });
        for (var index = 0; index < 20000; index++)
        {
            var bytes = generator.NextBinaryDescriptor().ToBinary();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }

            if (random.Next(4) == 0)
            {
                bytes = bytes[..random.Next(bytes.Length)];
            }

            try
            {
                var decoded = SecurityDescriptor.FromBinary(bytes);
                translator.Translate(bytes);
                Assert.Equal(decoded, SecurityDescriptor.FromBinary(decoded.ToBinary()));
            }
            catch (SecurityFormatException)
            {
                Assert.Throws<SecurityFormatException>(() => translator.Translate(bytes));
            }
        }
    }
}
