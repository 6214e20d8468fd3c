using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Rehome.Security.Sids;

namespace Rehome.Security.Conditions;

/// <summary>Value types of a resource attribute (CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1, MS-DTYP 2.4.10.1).</summary>
#pragma warning disable CA1028 // The wire format is two bytes.
public enum ResourceAttributeType : ushort
#pragma warning restore CA1028
{
    Int64 = 0x0001,
    UInt64 = 0x0002,
    String = 0x0003,
    Sid = 0x0005,
    Boolean = 0x0006,
    OctetString = 0x0010,
}

/// <summary>
/// The attribute of a SYSTEM_RESOURCE_ATTRIBUTE_ACE: a name, a value type, flags and values, in the binary
/// CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1 form and the SDDL form <c>("Project",TS,0x0,"Windows","SQL")</c>. Values are
/// <see cref="long"/> (TI), <see cref="ulong"/> (TU, and TB as 0 or 1), <see cref="string"/> (TS),
/// <see cref="SecurityIdentifier"/> (TD) or <see cref="byte"/> arrays (TX).
/// </summary>
public sealed class ResourceAttribute
{
    private const int HeaderLength = 16;

    private static readonly (ResourceAttributeType Type, string Word)[] TypeWords =
    [
        (ResourceAttributeType.Int64, "TI"), (ResourceAttributeType.UInt64, "TU"), (ResourceAttributeType.String, "TS"),
        (ResourceAttributeType.Sid, "TD"), (ResourceAttributeType.OctetString, "TX"), (ResourceAttributeType.Boolean, "TB"),
    ];

    public required string Name { get; init; }

    public required ResourceAttributeType ValueType { get; init; }

    public uint Flags { get; init; }

    public IReadOnlyList<object> Values { get; init; } = [];

    /// <summary>Decodes the attribute data of a resource attribute ACE; offsets in errors count from <paramref name="baseOffset"/>.</summary>
    public static ResourceAttribute FromBinary(ReadOnlySpan<byte> data, int baseOffset = 0)
    {
        if (data.Length < HeaderLength)
        {
            throw SecurityFormatException.AtOffset(baseOffset, $"A resource attribute needs {HeaderLength} bytes, got {data.Length}");
        }

        var type = (ResourceAttributeType)BinaryPrimitives.ReadUInt16LittleEndian(data[4..]);
        if (!Array.Exists(TypeWords, entry => entry.Type == type))
        {
            throw SecurityFormatException.AtOffset(baseOffset + 4, $"Unknown resource attribute value type 0x{(ushort)type:X4}");
        }

        var count = BinaryPrimitives.ReadUInt32LittleEndian(data[12..]);
        if (count > (uint)(data.Length - HeaderLength) / 4)
        {
            throw SecurityFormatException.AtOffset(baseOffset + 12, $"{count} value offsets do not fit in {data.Length} bytes");
        }

        var values = new List<object>((int)count);
        for (var index = 0; index < (int)count; index++)
        {
            var field = HeaderLength + (4 * index);
            var offset = CheckOffset(data, field, baseOffset);
            values.Add(type switch
            {
                ResourceAttributeType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(Slice(data, offset, 8, field, baseOffset)),
                ResourceAttributeType.UInt64 or ResourceAttributeType.Boolean => BinaryPrimitives.ReadUInt64LittleEndian(Slice(data, offset, 8, field, baseOffset)),
                ResourceAttributeType.String => ReadString(data, offset, field, baseOffset),
                _ => ReadOctets(data, offset, field, baseOffset, type == ResourceAttributeType.Sid),
            });
        }

        return new ResourceAttribute
        {
            Name = ReadString(data, CheckOffset(data, 0, baseOffset), 0, baseOffset),
            ValueType = type,
            Flags = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]),
            Values = values,
        };
    }

    /// <summary>The binary form: header, value offsets, name, values, zero padding to a multiple of four bytes.</summary>
    public byte[] ToBinary()
    {
        var length = HeaderLength + (4 * Values.Count) + (2 * (Name.Length + 1));
        foreach (var value in Values)
        {
            length += MeasureValue(value);
        }

        var result = new byte[(length + 3) & ~3];
        var span = result.AsSpan();
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], (ushort)ValueType);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], (uint)Values.Count);
        var position = HeaderLength + (4 * Values.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)position);
        position += WriteString(Name, span[position..]);
        for (var index = 0; index < Values.Count; index++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span[(HeaderLength + (4 * index))..], (uint)position);
            position += Values[index] switch
            {
                long signed => Write8(unchecked((ulong)signed), span[position..]),
                ulong unsigned => Write8(unsigned, span[position..]),
                string text => WriteString(text, span[position..]),
                SecurityIdentifier sid => WriteOctets(sid.Binary, span[position..]),
                _ => WriteOctets((byte[])Values[index], span[position..]),
            };
        }

        return result;
    }

    /// <summary>The SDDL form, parentheses included.</summary>
    public string ToSddl(SecurityIdentifier? domain = null)
    {
        var builder = new StringBuilder("(");
        builder.Append(ConditionSddl.WriteString(Name)).Append(',').Append(Array.Find(TypeWords, entry => entry.Type == ValueType).Word)
            .Append(",0x").Append(Flags.ToString("x", CultureInfo.InvariantCulture));
        foreach (var value in Values)
        {
            builder.Append(',').Append(value switch
            {
                long signed => signed.ToString(CultureInfo.InvariantCulture),
                ulong unsigned => unsigned.ToString(CultureInfo.InvariantCulture),
                string text => ConditionSddl.WriteString(text),
                SecurityIdentifier sid => WellKnownSids.ToAlias(sid, domain) ?? sid.ToString(),
                _ => "#" + Convert.ToHexStringLower((byte[])value),
            });
        }

        return builder.Append(')').ToString();
    }

    /// <summary>Parses the SDDL form, parentheses included.</summary>
    public static ResourceAttribute Parse(string text, SecurityIdentifier? domain = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Parse(text, 0, domain);
    }

    internal static ResourceAttribute Parse(string text, int basePosition, SecurityIdentifier? domain)
    {
        var reader = new ConditionSddl.Reader(text, basePosition, domain);
        reader.Expect('(');
        reader.SkipSpace();
        var name = reader.ReadString();
        reader.SkipSpace();
        reader.Expect(',');
        reader.SkipSpace();
        var typeStart = text.Length - reader.Remaining;
        var typeWord = text.Substring(typeStart, Math.Min(2, reader.Remaining));
        var type = Array.Find(TypeWords, entry => entry.Word == typeWord).Word is null
            ? throw reader.Error(typeStart, $"Unknown resource attribute type '{typeWord}'")
            : Array.Find(TypeWords, entry => entry.Word == typeWord).Type;
        reader.Skip(2);
        reader.SkipSpace();
        reader.Expect(',');
        reader.SkipSpace();
        var flagsStart = text.Length - reader.Remaining;
        var flags = reader.ReadUnsigned();
        if (flags > uint.MaxValue)
        {
            throw reader.Error(flagsStart, "Resource attribute flags have 32 bits");
        }

        var values = new List<object>();
        reader.SkipSpace();
        while (!reader.AtEnd && reader.Peek == ',')
        {
            reader.Skip(1);
            reader.SkipSpace();
            var valueStart = text.Length - reader.Remaining;
            values.Add(type switch
            {
                ResourceAttributeType.Int64 => reader.ReadInteger().Integer,
                ResourceAttributeType.UInt64 or ResourceAttributeType.Boolean => reader.ReadUnsigned(),
                ResourceAttributeType.String => reader.ReadString(),
                ResourceAttributeType.Sid => ReadSid(reader),
                _ => reader.ReadOctets(),
            });
            if (type == ResourceAttributeType.Boolean && (ulong)values[^1] > 1)
            {
                throw reader.Error(valueStart, "A TB value is 0 or 1");
            }

            reader.SkipSpace();
        }

        reader.Expect(')');
        reader.SkipSpace();
        if (!reader.AtEnd)
        {
            throw reader.Error(text.Length - reader.Remaining, "Unexpected text after the resource attribute");
        }

        return new ResourceAttribute { Name = name, ValueType = type, Flags = (uint)flags, Values = values };
    }

    // TD values are SID strings; SID(…) as in conditions is accepted too.
    private static SecurityIdentifier ReadSid(ConditionSddl.Reader reader)
    {
        if (reader.Remaining >= 4 && reader.Peek is 'S' or 's' && reader.PeekAt(1) is 'I' or 'i')
        {
            return reader.ReadOperand(allowAttribute: false).Sid!;
        }

        return reader.ReadSidString();
    }

    private static int CheckOffset(ReadOnlySpan<byte> data, int field, int baseOffset)
    {
        var offset = BinaryPrimitives.ReadUInt32LittleEndian(data[field..]);
        if (offset < HeaderLength || offset >= (uint)data.Length)
        {
            throw SecurityFormatException.AtOffset(baseOffset + field, $"Offset {offset} is outside the {data.Length}-byte resource attribute");
        }

        return (int)offset;
    }

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> data, int offset, int length, int field, int baseOffset) =>
        offset + length <= data.Length
            ? data.Slice(offset, length)
            : throw SecurityFormatException.AtOffset(baseOffset + field, $"The value at offset {offset} runs past the end of the resource attribute");

    private static string ReadString(ReadOnlySpan<byte> data, int offset, int field, int baseOffset)
    {
        var chars = MemoryMarshal.Cast<byte, char>(data[offset..]);
        var end = chars.IndexOf('\0');
        return end >= 0
            ? new string(chars[..end])
            : throw SecurityFormatException.AtOffset(baseOffset + field, $"The string at offset {offset} has no terminating zero");
    }

    private static object ReadOctets(ReadOnlySpan<byte> data, int offset, int field, int baseOffset, bool isSid)
    {
        var length = BinaryPrimitives.ReadUInt32LittleEndian(Slice(data, offset, 4, field, baseOffset));
        if (length > (uint)(data.Length - offset - 4))
        {
            throw SecurityFormatException.AtOffset(baseOffset + offset, $"A value of {length} bytes runs past the end of the resource attribute");
        }

        var bytes = data.Slice(offset + 4, (int)length);
        if (!isSid)
        {
            return bytes.ToArray();
        }

        return SecurityIdentifier.MeasureBinary(bytes, baseOffset + offset + 4) == bytes.Length
            ? SecurityIdentifier.FromBinary(bytes)
            : throw SecurityFormatException.AtOffset(baseOffset + offset, $"A SID value of {length} bytes holds a shorter SID");
    }

    private static int MeasureValue(object value) => value switch
    {
        long or ulong => 8,
        string text => 2 * (text.Length + 1),
        SecurityIdentifier sid => 4 + sid.BinaryLength,
        byte[] bytes => 4 + bytes.Length,
        _ => throw new InvalidOperationException($"A resource attribute value cannot be a {value.GetType().Name}."),
    };

    private static int Write8(ulong value, Span<byte> target)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(target, value);
        return 8;
    }

    private static int WriteString(string text, Span<byte> target)
    {
        MemoryMarshal.AsBytes(text.AsSpan()).CopyTo(target);
        target[2 * text.Length] = 0;
        target[(2 * text.Length) + 1] = 0;
        return 2 * (text.Length + 1);
    }

    private static int WriteOctets(ReadOnlySpan<byte> bytes, Span<byte> target)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(target, (uint)bytes.Length);
        bytes.CopyTo(target[4..]);
        return 4 + bytes.Length;
    }
}
