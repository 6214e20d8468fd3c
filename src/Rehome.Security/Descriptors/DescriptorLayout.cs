using System.Buffers.Binary;
using Rehome.Security.Sids;

namespace Rehome.Security.Descriptors;

/// <summary>
/// Where the parts of a binary self-relative security descriptor sit, validated: every offset inside the data, no
/// part overlapping the header or another part, every SID, ACL and ACE well formed.
/// </summary>
internal readonly struct DescriptorLayout
{
    public const int HeaderLength = 20;

    public ControlFlags Control { get; init; }

    public byte ResourceManagerControl { get; init; }

    public int OwnerOffset { get; init; }

    public int OwnerLength { get; init; }

    public int GroupOffset { get; init; }

    public int GroupLength { get; init; }

    public int SaclOffset { get; init; }

    public int SaclLength { get; init; }

    public int DaclOffset { get; init; }

    public int DaclLength { get; init; }

    /// <summary>
    /// Parses and validates the layout; with <paramref name="validateAces"/> false the ACLs' headers are checked but
    /// their ACEs are left to the caller, which must validate them as it walks them.
    /// </summary>
    public static DescriptorLayout Parse(ReadOnlySpan<byte> data, bool validateAces = true)
    {
        if (data.Length < HeaderLength)
        {
            throw SecurityFormatException.AtOffset(0, $"A security descriptor needs 20 bytes, got {data.Length}");
        }

        if (data[0] != 1)
        {
            throw SecurityFormatException.AtOffset(0, $"Security descriptor revision {data[0]} is not 1");
        }

        var control = (ControlFlags)BinaryPrimitives.ReadUInt16LittleEndian(data[2..]);
        if ((control & ControlFlags.SelfRelative) == 0)
        {
            throw SecurityFormatException.AtOffset(2, "Security descriptor is not self-relative");
        }

        var ownerOffset = ReadOffset(data, 4);
        var groupOffset = ReadOffset(data, 8);
        var saclOffset = (control & ControlFlags.SaclPresent) != 0 ? ReadOffset(data, 12) : 0;
        var daclOffset = (control & ControlFlags.DaclPresent) != 0 ? ReadOffset(data, 16) : 0;
        var ownerLength = ownerOffset == 0 ? 0 : SecurityIdentifier.MeasureBinary(data[ownerOffset..], ownerOffset);
        var groupLength = groupOffset == 0 ? 0 : SecurityIdentifier.MeasureBinary(data[groupOffset..], groupOffset);
        var saclLength = saclOffset == 0 ? 0 : AceCodec.MeasureAcl(data[saclOffset..], saclOffset, out _, validateAces);
        var daclLength = daclOffset == 0 ? 0 : AceCodec.MeasureAcl(data[daclOffset..], daclOffset, out _, validateAces);
        var layout = new DescriptorLayout
        {
            Control = control,
            ResourceManagerControl = data[1],
            OwnerOffset = ownerOffset,
            OwnerLength = ownerLength,
            GroupOffset = groupOffset,
            GroupLength = groupLength,
            SaclOffset = saclOffset,
            SaclLength = saclLength,
            DaclOffset = daclOffset,
            DaclLength = daclLength,
        };
        layout.CheckNoOverlap();
        return layout;
    }

    private static int ReadOffset(ReadOnlySpan<byte> data, int field)
    {
        var offset = BinaryPrimitives.ReadUInt32LittleEndian(data[field..]);
        if (offset == 0)
        {
            return 0;
        }

        if (offset < HeaderLength)
        {
            throw SecurityFormatException.AtOffset(field, $"Offset {offset} points into the security descriptor header");
        }

        if (offset >= (uint)data.Length)
        {
            throw SecurityFormatException.AtOffset(field, $"Offset {offset} is past the end of the {data.Length}-byte security descriptor");
        }

        return (int)offset;
    }

    private void CheckNoOverlap()
    {
        CheckPair(OwnerOffset, OwnerLength, GroupOffset, GroupLength, 8);
        CheckPair(OwnerOffset, OwnerLength, SaclOffset, SaclLength, 12);
        CheckPair(OwnerOffset, OwnerLength, DaclOffset, DaclLength, 16);
        CheckPair(GroupOffset, GroupLength, SaclOffset, SaclLength, 12);
        CheckPair(GroupOffset, GroupLength, DaclOffset, DaclLength, 16);
        CheckPair(SaclOffset, SaclLength, DaclOffset, DaclLength, 16);
    }

    // Parts of length 0 are absent; the error names the field of the second part.
    private static void CheckPair(int firstStart, int firstLength, int secondStart, int secondLength, int secondField)
    {
        if (firstLength > 0 && secondLength > 0 && firstStart < secondStart + secondLength && secondStart < firstStart + firstLength)
        {
            throw SecurityFormatException.AtOffset(secondField, $"The part at offset {secondStart} overlaps the part at offset {firstStart}");
        }
    }
}
