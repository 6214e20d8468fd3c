using System.Buffers.Binary;
using Rehome.Security.Sids;

namespace Rehome.Security.Descriptors;

/// <summary>
/// A security descriptor (MS-DTYP 2.4.6): control flags, owner, group, SACL and DACL. Reads and writes the
/// self-relative binary form, recomputing every size and offset on write (parts in Windows' order: SACL, DACL,
/// owner, group).
/// </summary>
public sealed class SecurityDescriptor : IEquatable<SecurityDescriptor>
{
    /// <summary>Control flags; <see cref="ControlFlags.SelfRelative"/> and the present flags are set on write.</summary>
    public ControlFlags Control { get; set; }

    /// <summary>The resource manager control byte (Sbz1), meaningful with <see cref="ControlFlags.ResourceManagerControlValid"/>.</summary>
    public byte ResourceManagerControl { get; set; }

    public SecurityIdentifier? Owner { get; set; }

    public SecurityIdentifier? Group { get; set; }

    /// <summary>The system ACL, or null when absent; with <see cref="ControlFlags.SaclPresent"/> set, null means a NULL SACL.</summary>
    public Acl? Sacl { get; set; }

    /// <summary>The discretionary ACL, or null when absent; with <see cref="ControlFlags.DaclPresent"/> set, null means a NULL DACL.</summary>
    public Acl? Dacl { get; set; }

    /// <summary>Size of the binary form.</summary>
    public int BinaryLength => DescriptorLayout.HeaderLength + (Sacl?.BinaryLength ?? 0) + (Dacl?.BinaryLength ?? 0)
        + (Owner?.BinaryLength ?? 0) + (Group?.BinaryLength ?? 0);

    /// <summary>Decodes a self-relative security descriptor; malformed input gives a <see cref="SecurityFormatException"/>.</summary>
    public static SecurityDescriptor FromBinary(ReadOnlySpan<byte> data)
    {
        var layout = DescriptorLayout.Parse(data);
        return new SecurityDescriptor
        {
            Control = layout.Control,
            ResourceManagerControl = layout.ResourceManagerControl,
            Owner = layout.OwnerOffset == 0 ? null : SecurityIdentifier.FromBinary(data.Slice(layout.OwnerOffset, layout.OwnerLength)),
            Group = layout.GroupOffset == 0 ? null : SecurityIdentifier.FromBinary(data.Slice(layout.GroupOffset, layout.GroupLength)),
            Sacl = layout.SaclOffset == 0 ? null : Acl.Read(data[layout.SaclOffset..], layout.SaclOffset),
            Dacl = layout.DaclOffset == 0 ? null : Acl.Read(data[layout.DaclOffset..], layout.DaclOffset),
        };
    }

    /// <summary>The self-relative binary form.</summary>
    public byte[] ToBinary()
    {
        var result = new byte[BinaryLength];
        Write(result);
        return result;
    }

    /// <summary>Writes the self-relative binary form; returns the bytes written.</summary>
    public int Write(Span<byte> destination)
    {
        var control = Control | ControlFlags.SelfRelative;
        if (Sacl is not null)
        {
            control |= ControlFlags.SaclPresent;
        }

        if (Dacl is not null)
        {
            control |= ControlFlags.DaclPresent;
        }

        destination[..DescriptorLayout.HeaderLength].Clear();
        destination[0] = 1;
        destination[1] = ResourceManagerControl;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], (ushort)control);
        var position = DescriptorLayout.HeaderLength;
        if (Sacl is not null)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], (uint)position);
            position += Sacl.Write(destination[position..]);
        }

        if (Dacl is not null)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], (uint)position);
            position += Dacl.Write(destination[position..]);
        }

        if (Owner is not null)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)position);
            Owner.Binary.CopyTo(destination[position..]);
            position += Owner.BinaryLength;
        }

        if (Group is not null)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], (uint)position);
            Group.Binary.CopyTo(destination[position..]);
            position += Group.BinaryLength;
        }

        return position;
    }

    public bool Equals(SecurityDescriptor? other) => other is not null
        && (Control | ControlFlags.SelfRelative) == (other.Control | ControlFlags.SelfRelative)
        && ResourceManagerControl == other.ResourceManagerControl && Owner == other.Owner && Group == other.Group
        && Equals(Sacl, other.Sacl) && Equals(Dacl, other.Dacl);

    public override bool Equals(object? obj) => Equals(obj as SecurityDescriptor);

    public override int GetHashCode() => HashCode.Combine(Control, Owner, Group);
}
