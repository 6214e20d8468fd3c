using System.Buffers.Binary;
using Rehome.Security.Sids;

namespace Rehome.Security.Descriptors;

/// <summary>Span-level layout of binary ACEs and ACLs, shared by the object model and the translator.</summary>
internal static class AceCodec
{
    public const int HeaderLength = 4;
    public const int AclHeaderLength = 8;

    /// <summary>
    /// Validates the ACE at the start of <paramref name="data"/> (which ends where its ACL ends) and returns its size,
    /// with where its SID sits inside it (-1 when the body is not decoded).
    /// </summary>
    public static int Measure(ReadOnlySpan<byte> data, int baseOffset, out int sidOffset, out int sidLength)
    {
        sidOffset = -1;
        sidLength = 0;
        if (data.Length < HeaderLength)
        {
            throw SecurityFormatException.AtOffset(baseOffset, $"An ACE header needs 4 bytes, {data.Length} remain in the ACL");
        }

        int size = BinaryPrimitives.ReadUInt16LittleEndian(data[2..]);
        if (size < HeaderLength)
        {
            throw SecurityFormatException.AtOffset(baseOffset + 2, $"ACE size {size} is smaller than its header");
        }

        if (size > data.Length)
        {
            throw SecurityFormatException.AtOffset(baseOffset + 2, $"ACE size {size} runs past the end of its ACL ({data.Length} bytes remain)");
        }

        var type = (AceType)data[0];
        var layout = AceTypes.LayoutOf(type);
        if (layout == AceLayout.Raw)
        {
            return size;
        }

        var position = HeaderLength + 4;
        if (layout == AceLayout.Object)
        {
            if (size < position + 4)
            {
                throw SecurityFormatException.AtOffset(baseOffset, $"Object ACE of {size} bytes has no room for its object flags");
            }

            var objectFlags = BinaryPrimitives.ReadUInt32LittleEndian(data[position..]);
            position += 4;
            if ((objectFlags & (uint)ObjectAceFlags.ObjectTypePresent) != 0)
            {
                position += 16;
            }

            if ((objectFlags & (uint)ObjectAceFlags.InheritedObjectTypePresent) != 0)
            {
                position += 16;
            }

            if (position > size)
            {
                throw SecurityFormatException.AtOffset(baseOffset, $"Object ACE of {size} bytes has no room for the GUIDs its flags announce");
            }
        }
        else if (size < position)
        {
            throw SecurityFormatException.AtOffset(baseOffset, $"ACE of {size} bytes has no room for its access mask");
        }

        sidOffset = position;
        sidLength = SecurityIdentifier.MeasureBinary(data[position..size], baseOffset + position);
        return size;
    }

    /// <summary>
    /// Validates the ACL at the start of <paramref name="data"/> (its ACEs too unless <paramref name="validateAces"/> is
    /// false) and returns its declared size.
    /// </summary>
    public static int MeasureAcl(ReadOnlySpan<byte> data, int baseOffset, out int aceCount, bool validateAces = true)
    {
        if (data.Length < AclHeaderLength)
        {
            throw SecurityFormatException.AtOffset(baseOffset, $"An ACL header needs 8 bytes, {data.Length} remain");
        }

        var revision = data[0];
        if (revision is not (2 or 4))
        {
            throw SecurityFormatException.AtOffset(baseOffset, $"ACL revision {revision} is neither 2 nor 4");
        }

        int size = BinaryPrimitives.ReadUInt16LittleEndian(data[2..]);
        if (size < AclHeaderLength)
        {
            throw SecurityFormatException.AtOffset(baseOffset + 2, $"ACL size {size} is smaller than its header");
        }

        if (size > data.Length)
        {
            throw SecurityFormatException.AtOffset(baseOffset + 2, $"ACL size {size} runs past the end of the data ({data.Length} bytes remain)");
        }

        aceCount = BinaryPrimitives.ReadUInt16LittleEndian(data[4..]);
        var position = AclHeaderLength;
        for (var index = 0; validateAces && index < aceCount; index++)
        {
            position += MeasureNext(data[..size], position, index, baseOffset, out _, out _);
        }

        return size;
    }

    /// <summary>Validates the ACE number <paramref name="index"/> of an ACL, found at <paramref name="position"/>; returns its size.</summary>
    public static int MeasureNext(ReadOnlySpan<byte> acl, int position, int index, int baseOffset, out int sidOffset, out int sidLength)
    {
        if (position >= acl.Length)
        {
            var count = BinaryPrimitives.ReadUInt16LittleEndian(acl[4..]);
            throw SecurityFormatException.AtOffset(baseOffset + 4, $"ACL announces {count} ACEs but its {acl.Length} bytes hold only {index}");
        }

        return Measure(acl[position..], baseOffset + position, out sidOffset, out sidLength);
    }
}
