using System.Buffers.Binary;

namespace Rehome.Security.Descriptors;

/// <summary>An access control list (MS-DTYP 2.4.5): a revision and its ACEs in order.</summary>
public sealed class Acl : IEquatable<Acl>
{
    /// <summary>ACL revision: 2, or 4 when object ACEs are present.</summary>
    public byte Revision { get; set; } = 2;

    public IList<Ace> Aces { get; } = [];

    /// <summary>Size of the binary form; sizes are recomputed, never copied from input.</summary>
    public int BinaryLength
    {
        get
        {
            var length = AceCodec.AclHeaderLength;
            foreach (var ace in Aces)
            {
                length += ace.BinaryLength;
            }

            return length;
        }
    }

    /// <summary>Decodes the ACL at the start of <paramref name="data"/>.</summary>
    public static Acl Read(ReadOnlySpan<byte> data, int baseOffset)
    {
        var size = AceCodec.MeasureAcl(data, baseOffset, out var count);
        var acl = new Acl { Revision = data[0] };
        var position = AceCodec.AclHeaderLength;
        for (var index = 0; index < count; index++)
        {
            acl.Aces.Add(Ace.Read(data[position..size], baseOffset + position, out var aceSize));
            position += aceSize;
        }

        return acl;
    }

    /// <summary>Writes the binary form; returns the bytes written.</summary>
    public int Write(Span<byte> destination)
    {
        var length = BinaryLength;
        if (length > ushort.MaxValue || Aces.Count > ushort.MaxValue)
        {
            throw new InvalidOperationException($"ACL of {length} bytes exceeds the 65535-byte limit.");
        }

        destination[0] = Revision;
        destination[1] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], (ushort)length);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], (ushort)Aces.Count);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], 0);
        var position = AceCodec.AclHeaderLength;
        foreach (var ace in Aces)
        {
            position += ace.Write(destination[position..]);
        }

        return position;
    }

    /// <summary>
    /// Whether the ACEs are in canonical order: explicit deny, then explicit allow, then inherited ACEs. Returns the
    /// index of the first ACE out of order, or -1.
    /// </summary>
    public int FindFirstNonCanonicalAce()
    {
        var previousRank = 0;
        for (var index = 0; index < Aces.Count; index++)
        {
            var ace = Aces[index];
            var rank = ace.IsInherited ? 2 : ace.Type switch
            {
                AceType.AccessDenied or AceType.AccessDeniedObject or AceType.AccessDeniedCallback or AceType.AccessDeniedCallbackObject => 0,
                AceType.AccessAllowed or AceType.AccessAllowedObject or AceType.AccessAllowedCallback or AceType.AccessAllowedCallbackObject => 1,
                _ => previousRank,
            };
            if (rank < previousRank)
            {
                return index;
            }

            previousRank = rank;
        }

        return -1;
    }

    /// <summary>Whether the ACEs are in canonical order (see <see cref="FindFirstNonCanonicalAce"/>).</summary>
    public bool IsCanonical => FindFirstNonCanonicalAce() < 0;

    public bool Equals(Acl? other) => other is not null && Revision == other.Revision && Aces.SequenceEqual(other.Aces);

    public override bool Equals(object? obj) => Equals(obj as Acl);

    public override int GetHashCode() => HashCode.Combine(Revision, Aces.Count);
}
