using System.Buffers.Binary;
using Rehome.Security.Descriptors;

namespace Rehome.Security.Stores;

/// <summary>
/// Samba's <c>security.NTACL</c> attribute, version 1: an NDR header (version, union level, pointer) followed by the
/// descriptor, whose offsets NDR counts from the start of the attribute rather than of the descriptor. Versions 2–4
/// (with hashes of the POSIX ACL) are refused rather than guessed at.
/// </summary>
public static class SambaNtacl
{
    private const int HeaderLength = 8;

    /// <summary>The self-relative descriptor inside a version 1 attribute.</summary>
    public static byte[] Decode(ReadOnlySpan<byte> attribute)
    {
        if (attribute.Length < HeaderLength + DescriptorLayout.HeaderLength)
        {
            throw SecurityFormatException.AtOffset(0, $"A security.NTACL attribute needs at least {HeaderLength + DescriptorLayout.HeaderLength} bytes, got {attribute.Length}");
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(attribute);
        var level = BinaryPrimitives.ReadUInt16LittleEndian(attribute[2..]);
        if (version != 1 || level != 1)
        {
            throw SecurityFormatException.AtOffset(0, $"security.NTACL version {version} (level {level}) is not supported; only version 1 is");
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(attribute[4..]) == 0)
        {
            throw SecurityFormatException.AtOffset(4, "security.NTACL holds no descriptor");
        }

        var descriptor = attribute[HeaderLength..].ToArray();
        ShiftOffsets(descriptor, -HeaderLength);
        return descriptor;
    }

    /// <summary>A version 1 attribute holding <paramref name="descriptor"/>.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> descriptor)
    {
        DescriptorLayout.Parse(descriptor);
        var attribute = new byte[HeaderLength + descriptor.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(attribute, 1);
        BinaryPrimitives.WriteUInt16LittleEndian(attribute.AsSpan(2), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(attribute.AsSpan(4), 0x00020000); // NDR's first referent id
        descriptor.CopyTo(attribute.AsSpan(HeaderLength));
        ShiftOffsets(attribute.AsSpan(HeaderLength), HeaderLength);
        return attribute;
    }

    private static void ShiftOffsets(Span<byte> descriptor, int shift)
    {
        for (var field = 4; field <= 16; field += 4)
        {
            var offset = BinaryPrimitives.ReadUInt32LittleEndian(descriptor[field..]);
            if (offset == 0)
            {
                continue;
            }

            if (offset + shift < DescriptorLayout.HeaderLength)
            {
                throw SecurityFormatException.AtOffset(HeaderLength + field, $"Offset {offset} points into the header");
            }

            BinaryPrimitives.WriteUInt32LittleEndian(descriptor[field..], (uint)(offset + shift));
        }
    }
}
