using System.Buffers.Binary;
using Rehome.Security.Sids;

namespace Rehome.Security.Descriptors;

/// <summary>
/// One access control entry of any MS-DTYP type. Types this library does not decode keep their body in
/// <see cref="RawBody"/> byte-for-byte; decoded types keep any bytes after the SID (callback conditions, resource
/// attribute values, padding) in <see cref="ApplicationData"/>.
/// </summary>
public sealed class Ace : IEquatable<Ace>
{
    public AceType Type { get; init; }

    public AceFlags Flags { get; init; }

    public uint AccessMask { get; init; }

    /// <summary>The trustee; null only for ACEs kept raw.</summary>
    public SecurityIdentifier? Sid { get; init; }

    /// <summary>Object type GUID of object ACEs, when present.</summary>
    public Guid? ObjectType { get; init; }

    /// <summary>Inherited object type GUID of object ACEs, when present.</summary>
    public Guid? InheritedObjectType { get; init; }

    /// <summary>Object flag bits beyond the two GUID presence bits, kept so the ACE writes back unchanged.</summary>
    public uint ReservedObjectFlags { get; init; }

    /// <summary>
    /// Bytes after the SID: the binary condition of callback ACEs (see <see cref="Conditions.ConditionalExpression"/>),
    /// the attribute of resource attribute ACEs (see <see cref="Conditions.ResourceAttribute"/>).
    /// </summary>
    public ReadOnlyMemory<byte> ApplicationData { get; init; }

    /// <summary>The whole body after the 4-byte header, for ACE types kept raw.</summary>
    public ReadOnlyMemory<byte> RawBody { get; init; }

    /// <summary>Whether this ACE is kept raw (unknown or compound type).</summary>
    public bool IsRaw => AceTypes.LayoutOf(Type) == AceLayout.Raw;

    /// <summary>Whether this ACE was inherited from a parent.</summary>
    public bool IsInherited => (Flags & AceFlags.Inherited) != 0;

    /// <summary>Size of the binary form.</summary>
    public int BinaryLength
    {
        get
        {
            var layout = AceTypes.LayoutOf(Type);
            if (layout == AceLayout.Raw)
            {
                return AceCodec.HeaderLength + RawBody.Length;
            }

            var length = AceCodec.HeaderLength + 4 + RequiredSid.BinaryLength + ApplicationData.Length;
            if (layout == AceLayout.Object)
            {
                length += 4 + (ObjectType.HasValue ? 16 : 0) + (InheritedObjectType.HasValue ? 16 : 0);
            }

            return length;
        }
    }

    private SecurityIdentifier RequiredSid => Sid ?? throw new InvalidOperationException($"ACE of type {Type} has no SID.");

    /// <summary>The same ACE for another trustee.</summary>
    public Ace WithSid(SecurityIdentifier sid) => new()
    {
        Type = Type,
        Flags = Flags,
        AccessMask = AccessMask,
        Sid = sid,
        ObjectType = ObjectType,
        InheritedObjectType = InheritedObjectType,
        ReservedObjectFlags = ReservedObjectFlags,
        ApplicationData = ApplicationData,
        RawBody = RawBody,
    };

    /// <summary>Decodes the ACE at the start of <paramref name="data"/>.</summary>
    public static Ace Read(ReadOnlySpan<byte> data, int baseOffset, out int size)
    {
        size = AceCodec.Measure(data, baseOffset, out var sidOffset, out var sidLength);
        var type = (AceType)data[0];
        var flags = (AceFlags)data[1];
        if (sidOffset < 0)
        {
            return new Ace { Type = type, Flags = flags, RawBody = data[AceCodec.HeaderLength..size].ToArray() };
        }

        var mask = BinaryPrimitives.ReadUInt32LittleEndian(data[AceCodec.HeaderLength..]);
        Guid? objectType = null;
        Guid? inheritedObjectType = null;
        uint reserved = 0;
        if (AceTypes.LayoutOf(type) == AceLayout.Object)
        {
            var objectFlags = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
            reserved = objectFlags & ~3u;
            var position = 12;
            if ((objectFlags & 1) != 0)
            {
                objectType = new Guid(data.Slice(position, 16));
                position += 16;
            }

            if ((objectFlags & 2) != 0)
            {
                inheritedObjectType = new Guid(data.Slice(position, 16));
            }
        }

        var trailing = data[(sidOffset + sidLength)..size];
        return new Ace
        {
            Type = type,
            Flags = flags,
            AccessMask = mask,
            Sid = SecurityIdentifier.FromBinary(data.Slice(sidOffset, sidLength)),
            ObjectType = objectType,
            InheritedObjectType = inheritedObjectType,
            ReservedObjectFlags = reserved,
            ApplicationData = trailing.IsEmpty ? ReadOnlyMemory<byte>.Empty : trailing.ToArray(),
        };
    }

    /// <summary>Writes the binary form; returns the bytes written.</summary>
    public int Write(Span<byte> destination)
    {
        var length = BinaryLength;
        if (length > ushort.MaxValue)
        {
            throw new InvalidOperationException($"ACE of {length} bytes exceeds the 65535-byte limit.");
        }

        destination[0] = (byte)Type;
        destination[1] = (byte)Flags;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], (ushort)length);
        if (IsRaw)
        {
            RawBody.Span.CopyTo(destination[AceCodec.HeaderLength..]);
            return length;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], AccessMask);
        var position = 8;
        if (AceTypes.LayoutOf(Type) == AceLayout.Object)
        {
            var objectFlags = ReservedObjectFlags | (ObjectType.HasValue ? 1u : 0u) | (InheritedObjectType.HasValue ? 2u : 0u);
            BinaryPrimitives.WriteUInt32LittleEndian(destination[position..], objectFlags);
            position += 4;
            if (ObjectType is { } objectType)
            {
                objectType.TryWriteBytes(destination[position..]);
                position += 16;
            }

            if (InheritedObjectType is { } inheritedObjectType)
            {
                inheritedObjectType.TryWriteBytes(destination[position..]);
                position += 16;
            }
        }

        RequiredSid.Binary.CopyTo(destination[position..]);
        position += RequiredSid.BinaryLength;
        ApplicationData.Span.CopyTo(destination[position..]);
        return length;
    }

    public bool Equals(Ace? other) => other is not null && Type == other.Type && Flags == other.Flags && AccessMask == other.AccessMask
        && Sid == other.Sid && ObjectType == other.ObjectType && InheritedObjectType == other.InheritedObjectType
        && ReservedObjectFlags == other.ReservedObjectFlags
        && ApplicationData.Span.SequenceEqual(other.ApplicationData.Span) && RawBody.Span.SequenceEqual(other.RawBody.Span);

    public override bool Equals(object? obj) => Equals(obj as Ace);

    public override int GetHashCode() => HashCode.Combine(Type, Flags, AccessMask, Sid);
}
