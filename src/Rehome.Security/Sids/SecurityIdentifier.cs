using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Rehome.Security.Sids;

/// <summary>
/// A Windows security identifier (SID), held in its binary form (MS-DTYP 2.4.2.2). Immutable; equality is by bytes.
/// </summary>
public sealed class SecurityIdentifier : IEquatable<SecurityIdentifier>
{
    /// <summary>The most sub-authorities a SID may carry.</summary>
    public const int MaxSubAuthorities = 15;

    /// <summary>The largest binary SID in bytes.</summary>
    public const int MaxBinaryLength = 8 + (4 * MaxSubAuthorities);

    private const ulong MaxAuthority = 0xFFFF_FFFF_FFFF;
    private readonly byte[] binary;
    private string? text;

    private SecurityIdentifier(byte[] binary)
    {
        this.binary = binary;
    }

    /// <summary>The 48-bit identifier authority (5 for NT AUTHORITY).</summary>
    public ulong IdentifierAuthority
    {
        get
        {
            ulong value = 0;
            for (var index = 2; index < 8; index++)
            {
                value = (value << 8) | binary[index];
            }

            return value;
        }
    }

    /// <summary>Number of sub-authorities.</summary>
    public int SubAuthorityCount => binary[1];

    /// <summary>Binary length in bytes.</summary>
    public int BinaryLength => binary.Length;

    /// <summary>The last sub-authority, the relative identifier of domain accounts.</summary>
    public uint Rid => SubAuthorityCount == 0 ? 0 : GetSubAuthority(SubAuthorityCount - 1);

    /// <summary>
    /// The account domain SID (S-1-5-21-a-b-c) this SID belongs to, or null when it is not a domain account SID.
    /// </summary>
    public SecurityIdentifier? AccountDomain
    {
        get
        {
            if (IdentifierAuthority != 5 || SubAuthorityCount < 4 || GetSubAuthority(0) != 21)
            {
                return null;
            }

            return SubAuthorityCount == 4 ? this : FromSubAuthorities(5, 4);
        }
    }

    /// <summary>The binary form.</summary>
    public ReadOnlySpan<byte> Binary => binary;

    /// <summary>Copies the binary form into a new array.</summary>
    public byte[] ToArray() => (byte[])binary.Clone();

    public uint GetSubAuthority(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, SubAuthorityCount);
        return BinaryPrimitives.ReadUInt32LittleEndian(binary.AsSpan(8 + (4 * index)));
    }

    /// <summary>This SID (a domain SID) with one more sub-authority: the RID of an account in that domain.</summary>
    public SecurityIdentifier WithRid(uint rid)
    {
        if (SubAuthorityCount >= MaxSubAuthorities)
        {
            throw new InvalidOperationException($"{this} already has {MaxSubAuthorities} sub-authorities.");
        }

        var result = new byte[binary.Length + 4];
        binary.CopyTo(result, 0);
        result[1]++;
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(binary.Length), rid);
        return new SecurityIdentifier(result);
    }

    /// <summary>Builds a SID from an authority and its sub-authorities.</summary>
    public static SecurityIdentifier Create(ulong identifierAuthority, params ReadOnlySpan<uint> subAuthorities)
    {
        if (identifierAuthority > MaxAuthority)
        {
            throw new ArgumentOutOfRangeException(nameof(identifierAuthority), "The identifier authority has 48 bits.");
        }

        if (subAuthorities.Length > MaxSubAuthorities)
        {
            throw new ArgumentOutOfRangeException(nameof(subAuthorities), $"A SID has at most {MaxSubAuthorities} sub-authorities.");
        }

        var result = new byte[8 + (4 * subAuthorities.Length)];
        result[0] = 1;
        result[1] = (byte)subAuthorities.Length;
        for (var index = 0; index < 6; index++)
        {
            result[7 - index] = (byte)(identifierAuthority >> (8 * index));
        }

        for (var index = 0; index < subAuthorities.Length; index++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(8 + (4 * index)), subAuthorities[index]);
        }

        return new SecurityIdentifier(result);
    }

    /// <summary>
    /// Length of the binary SID at the start of <paramref name="data"/>, validated; <paramref name="baseOffset"/>
    /// is only used to report where a problem is.
    /// </summary>
    public static int MeasureBinary(ReadOnlySpan<byte> data, int baseOffset = 0)
    {
        if (data.Length < 8)
        {
            throw SecurityFormatException.AtOffset(baseOffset, $"A SID needs at least 8 bytes, {data.Length} remain");
        }

        if (data[0] != 1)
        {
            throw SecurityFormatException.AtOffset(baseOffset, $"SID revision {data[0]} is not 1");
        }

        int count = data[1];
        if (count > MaxSubAuthorities)
        {
            throw SecurityFormatException.AtOffset(baseOffset + 1, $"SID has {count} sub-authorities, at most {MaxSubAuthorities} are allowed");
        }

        var length = 8 + (4 * count);
        if (data.Length < length)
        {
            throw SecurityFormatException.AtOffset(baseOffset, $"SID with {count} sub-authorities needs {length} bytes, {data.Length} remain");
        }

        return length;
    }

    /// <summary>Reads a binary SID; trailing bytes are not allowed.</summary>
    public static SecurityIdentifier FromBinary(ReadOnlySpan<byte> data)
    {
        var length = MeasureBinary(data);
        if (length != data.Length)
        {
            throw SecurityFormatException.AtOffset(length, $"{data.Length - length} bytes follow the SID");
        }

        return new SecurityIdentifier(data.ToArray());
    }

    /// <summary>Parses the S-1-… string form.</summary>
    public static SecurityIdentifier Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var result = ParseAt(value.AsSpan(), 0, out var consumed);
        if (consumed != value.Length)
        {
            throw SecurityFormatException.AtPosition(consumed, $"Unexpected '{value[consumed]}' after the SID");
        }

        return result;
    }

    /// <summary>Parses the S-1-… string form, or returns false.</summary>
    public static bool TryParse(string? value, out SecurityIdentifier? sid)
    {
        sid = null;
        if (value is null)
        {
            return false;
        }

        try
        {
            sid = Parse(value);
            return true;
        }
        catch (SecurityFormatException)
        {
            return false;
        }
    }

    /// <summary>
    /// Parses a SID string that starts at the beginning of <paramref name="text"/> and ends at the first character
    /// that cannot continue it; positions in errors are offset by <paramref name="basePosition"/>.
    /// </summary>
    internal static SecurityIdentifier ParseAt(ReadOnlySpan<char> text, int basePosition, out int consumed)
    {
        if (text.Length < 2 || (text[0] != 'S' && text[0] != 's') || text[1] != '-')
        {
            throw SecurityFormatException.AtPosition(basePosition, "A SID starts with 'S-'");
        }

        var position = 2;
        var revision = ReadNumber(text, ref position, basePosition, uint.MaxValue, allowHex: false);
        if (revision != 1)
        {
            throw SecurityFormatException.AtPosition(basePosition + 2, $"SID revision {revision} is not 1");
        }

        ExpectDash(text, ref position, basePosition);
        var authority = ReadNumber(text, ref position, basePosition, MaxAuthority, allowHex: true);
        Span<uint> subAuthorities = stackalloc uint[MaxSubAuthorities];
        var count = 0;
        while (position < text.Length && text[position] == '-' && position + 1 < text.Length && char.IsAsciiDigit(text[position + 1]))
        {
            position++;
            if (count == MaxSubAuthorities)
            {
                throw SecurityFormatException.AtPosition(basePosition + position, $"A SID has at most {MaxSubAuthorities} sub-authorities");
            }

            subAuthorities[count++] = (uint)ReadNumber(text, ref position, basePosition, uint.MaxValue, allowHex: false);
        }

        consumed = position;
        return Create(authority, subAuthorities[..count]);
    }

    private static void ExpectDash(ReadOnlySpan<char> text, ref int position, int basePosition)
    {
        if (position >= text.Length || text[position] != '-')
        {
            throw SecurityFormatException.AtPosition(basePosition + position, "Expected '-' in the SID");
        }

        position++;
    }

    private static ulong ReadNumber(ReadOnlySpan<char> text, ref int position, int basePosition, ulong maximum, bool allowHex)
    {
        var start = position;
        var hex = allowHex && position + 1 < text.Length && text[position] == '0' && (text[position + 1] == 'x' || text[position + 1] == 'X');
        if (hex)
        {
            position += 2;
        }

        var digitsStart = position;
        ulong value = 0;
        // A hex authority has exactly 12 digits as Windows writes it; stopping there keeps "G:S-1-0x…D:" unambiguous.
        while (position < text.Length && (hex ? char.IsAsciiHexDigit(text[position]) && position - digitsStart < 12 : char.IsAsciiDigit(text[position])))
        {
            var character = text[position];
            var digit = (ulong)(char.IsAsciiDigit(character) ? character - '0' : (character | 0x20) - 'a' + 10);
            var next = (value * (hex ? 16UL : 10UL)) + digit;
            if (value > maximum / (hex ? 16UL : 10UL) || next > maximum)
            {
                throw SecurityFormatException.AtPosition(basePosition + start, $"SID number is larger than {maximum}");
            }

            value = next;
            position++;
        }

        if (position == digitsStart)
        {
            throw SecurityFormatException.AtPosition(basePosition + position, "Expected a number in the SID");
        }

        return value;
    }

    private SecurityIdentifier FromSubAuthorities(ulong authority, int count)
    {
        Span<uint> values = stackalloc uint[count];
        for (var index = 0; index < count; index++)
        {
            values[index] = GetSubAuthority(index);
        }

        return Create(authority, values);
    }

    public bool Equals(SecurityIdentifier? other) => other is not null && binary.AsSpan().SequenceEqual(other.binary);

    public override bool Equals(object? obj) => Equals(obj as SecurityIdentifier);

    public override int GetHashCode() => SidHash.Compute(binary);

    public static bool operator ==(SecurityIdentifier? left, SecurityIdentifier? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(SecurityIdentifier? left, SecurityIdentifier? right) => !(left == right);

    /// <summary>The S-1-… form; authorities of 2^32 and above are written in hex as Windows does.</summary>
    public override string ToString()
    {
        if (text is not null)
        {
            return text;
        }

        var builder = new StringBuilder("S-1-", 64);
        var authority = IdentifierAuthority;
        builder.Append(authority >= 1UL << 32 ? "0x" + authority.ToString("X12", CultureInfo.InvariantCulture) : authority.ToString(CultureInfo.InvariantCulture));
        for (var index = 0; index < SubAuthorityCount; index++)
        {
            builder.Append('-').Append(GetSubAuthority(index).ToString(CultureInfo.InvariantCulture));
        }

        text = builder.ToString();
        return text;
    }
}
