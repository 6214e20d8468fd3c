using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Rehome.Security.Sids;

namespace Rehome.Security.Conditions;

/// <summary>
/// The conditional expression of a callback ACE (MS-DTYP 2.4.4.17): the application data that starts with "artx",
/// followed by tokens in postfix order and zero padding to a multiple of four bytes. Converts between that binary
/// form and the SDDL text form, e.g. <c>(@User.Title == "PM" &amp;&amp; Member_of {SID(BA)})</c>.
/// </summary>
public sealed class ConditionalExpression
{
    /// <summary>How deep composites may nest inside one another.</summary>
    public const int MaxCompositeDepth = 32;

    /// <summary>How deep operators may nest; deeper expressions are refused in both forms.</summary>
    public const int MaxDepth = 200;

    private ConditionalExpression(IReadOnlyList<ConditionToken> tokens)
    {
        Tokens = tokens;
    }

    /// <summary>The tokens in postfix order (operands before their operator), padding left out.</summary>
    public IReadOnlyList<ConditionToken> Tokens { get; }

    /// <summary>Whether callback application data holds a conditional expression (starts with "artx").</summary>
    public static bool IsConditional(ReadOnlySpan<byte> applicationData) => applicationData.StartsWith("artx"u8);

    /// <summary>
    /// Decodes the application data of a callback ACE; malformed data gives a <see cref="SecurityFormatException"/>
    /// whose offset counts from <paramref name="baseOffset"/>.
    /// </summary>
    public static ConditionalExpression FromBinary(ReadOnlySpan<byte> applicationData, int baseOffset = 0) =>
        new(Read(applicationData, baseOffset, build: true)!);

    /// <summary>Checks the application data as <see cref="FromBinary"/> does, without building tokens.</summary>
    internal static void Validate(ReadOnlySpan<byte> applicationData, int baseOffset) => Read(applicationData, baseOffset, build: false);

    /// <summary>Parses the SDDL text of a condition, outer parentheses included.</summary>
    public static ConditionalExpression Parse(string text, SecurityIdentifier? domain = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new ConditionalExpression(ConditionSddl.Parse(text, 0, domain));
    }

    internal static ConditionalExpression Parse(string text, int basePosition, SecurityIdentifier? domain) =>
        new(ConditionSddl.Parse(text, basePosition, domain));

    /// <summary>An expression made of these postfix tokens; they are checked when written.</summary>
    public static ConditionalExpression FromTokens(IEnumerable<ConditionToken> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var list = tokens.ToList();
        var expression = new ConditionalExpression(list);
        Validate(expression.ToBinary(), 0);
        return expression;
    }

    /// <summary>The SDDL text, every operation in its own parentheses.</summary>
    public string ToSddl(SecurityIdentifier? domain = null) => ConditionSddl.Write(Tokens, domain);

    /// <summary>The application data: "artx", the tokens, zero padding to a multiple of four bytes.</summary>
    public byte[] ToBinary()
    {
        var length = 4;
        foreach (var token in Tokens)
        {
            length += Measure(token);
        }

        var result = new byte[(length + 3) & ~3];
        "artx"u8.CopyTo(result);
        var position = 4;
        foreach (var token in Tokens)
        {
            position += Write(token, result.AsSpan(position));
        }

        return result;
    }

    /// <summary>The same expression with every SID literal passed through <paramref name="map"/>.</summary>
    public ConditionalExpression MapSids(Func<SecurityIdentifier, SecurityIdentifier> map) => new([.. Tokens.Select(token => token.MapSids(map))]);

    /// <summary>How many operands an operator takes: 0 for literals and attributes, -1 for unknown byte codes.</summary>
    internal static int Arity(byte code) => code switch
    {
        >= 0x01 and <= 0x04 or 0x10 or 0x18 or 0x50 or 0x51 or >= 0xF8 and <= 0xFB => 0,
        0x87 or 0x89 or 0x8A or 0x8B or 0x8C or 0x8D or >= 0x90 and <= 0x93 or 0xA2 => 1,
        >= 0x80 and <= 0x86 or 0x88 or 0x8E or 0x8F or 0xA0 or 0xA1 => 2,
        _ => -1,
    };

    /// <summary>
    /// Whether a token with this byte code carries a DWORD length and that many bytes; literal integers carry ten
    /// bytes and operators none.
    /// </summary>
    internal static bool HasLength(byte code) => code is 0x10 or 0x18 or 0x50 or 0x51 or >= 0xF8 and <= 0xFB;

    /// <summary>The size of the token at <paramref name="position"/>, which validation has already checked.</summary>
    internal static int SizeAt(ReadOnlySpan<byte> data, int position)
    {
        var code = data[position];
        if (code is >= 0x01 and <= 0x04)
        {
            return 11;
        }

        return HasLength(code) ? 5 + (int)BinaryPrimitives.ReadUInt32LittleEndian(data[(position + 1)..]) : 1;
    }

    private static List<ConditionToken>? Read(ReadOnlySpan<byte> data, int baseOffset, bool build)
    {
        if (!IsConditional(data))
        {
            throw SecurityFormatException.AtOffset(baseOffset, "A conditional expression starts with \"artx\"");
        }

        if (data.Length > ushort.MaxValue)
        {
            throw SecurityFormatException.AtOffset(baseOffset, $"A conditional expression of {data.Length} bytes does not fit in an ACE");
        }

        var tokens = build ? new List<ConditionToken>() : null;

        // The nesting depth of each value on the evaluation stack; every value takes at least five bytes.
        Span<byte> depths = stackalloc byte[(data.Length / 5) + 1];
        var stack = 0;
        var position = 4;
        while (position < data.Length)
        {
            var code = data[position];
            if (code == 0)
            {
                for (var index = position; index < data.Length; index++)
                {
                    if (data[index] != 0)
                    {
                        throw SecurityFormatException.AtOffset(baseOffset + index, "Only padding may follow a padding byte in a conditional expression");
                    }
                }

                break;
            }

            var arity = Arity(code);
            if (arity < 0)
            {
                throw SecurityFormatException.AtOffset(baseOffset + position, $"Unknown conditional expression token 0x{code:X2}");
            }

            if (stack < arity)
            {
                throw SecurityFormatException.AtOffset(baseOffset + position, $"Operator 0x{code:X2} needs {arity} operands, {stack} are available");
            }

            var depth = 0;
            for (var operand = stack - arity; operand < stack; operand++)
            {
                depth = Math.Max(depth, depths[operand] + 1);
            }

            if (depth > MaxDepth)
            {
                throw SecurityFormatException.AtOffset(baseOffset + position, $"The conditional expression nests deeper than {MaxDepth}");
            }

            stack += 1 - arity;
            depths[stack - 1] = (byte)depth;
            if (arity == 0)
            {
                var token = ReadOperand(data, ref position, data.Length, baseOffset, build, compositeDepth: 0);
                tokens?.Add(token!);
            }
            else
            {
                tokens?.Add(ConditionToken.Operator((ConditionTokenType)code));
                position++;
            }
        }

        if (stack != 1)
        {
            throw SecurityFormatException.AtOffset(baseOffset + position, stack == 0
                ? "The conditional expression is empty"
                : $"The conditional expression leaves {stack} values where one result is expected");
        }

        return tokens;
    }

    // Reads one literal or attribute token ending at most at end; returns it when building.
    private static ConditionToken? ReadOperand(ReadOnlySpan<byte> data, ref int position, int end, int baseOffset, bool build, int compositeDepth)
    {
        var start = position;
        var code = data[position];
        var type = (ConditionTokenType)code;
        if (code is >= 0x01 and <= 0x04)
        {
            if (end - position < 11)
            {
                throw SecurityFormatException.AtOffset(baseOffset + start, "An integer literal needs 11 bytes");
            }

            var value = BinaryPrimitives.ReadInt64LittleEndian(data[(position + 1)..]);
            var sign = data[position + 9];
            var numberBase = data[position + 10];
            if (sign is < 1 or > 3)
            {
                throw SecurityFormatException.AtOffset(baseOffset + start + 9, $"Integer sign {sign} is not 1, 2 or 3");
            }

            if (numberBase is < 1 or > 3)
            {
                throw SecurityFormatException.AtOffset(baseOffset + start + 10, $"Integer base {numberBase} is not 1, 2 or 3");
            }

            var bits = 8 << (code - 1);
            if (bits < 64 && (value < -(1L << (bits - 1)) || value >= 1L << (bits - 1)))
            {
                throw SecurityFormatException.AtOffset(baseOffset + start + 1, $"Value {value} does not fit a {bits}-bit integer literal");
            }

            position += 11;
            return build ? new ConditionToken { Type = type, Integer = value, Sign = (IntegerSign)sign, Base = (IntegerBase)numberBase } : null;
        }

        if (!HasLength(code))
        {
            throw SecurityFormatException.AtOffset(baseOffset + start, $"Token 0x{code:X2} cannot stand in a composite");
        }

        if (end - position < 5)
        {
            throw SecurityFormatException.AtOffset(baseOffset + start, $"Token 0x{code:X2} needs a 4-byte length");
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(data[(position + 1)..]);
        if (length > (uint)(end - position - 5))
        {
            throw SecurityFormatException.AtOffset(baseOffset + start + 1, $"Token length {length} runs past the end of its expression");
        }

        var payloadStart = position + 5;
        var payload = data.Slice(payloadStart, (int)length);
        position = payloadStart + (int)length;
        switch (type)
        {
            case ConditionTokenType.UnicodeString or >= ConditionTokenType.LocalAttribute:
                if ((length & 1) != 0)
                {
                    throw SecurityFormatException.AtOffset(baseOffset + start + 1, $"A UTF-16 string cannot be {length} bytes long");
                }

                return build ? new ConditionToken { Type = type, Text = new string(MemoryMarshal.Cast<byte, char>(payload)) } : null;
            case ConditionTokenType.OctetString:
                return build ? new ConditionToken { Type = type, Octets = payload.ToArray() } : null;
            case ConditionTokenType.Sid:
                if (SecurityIdentifier.MeasureBinary(payload, baseOffset + payloadStart) != payload.Length)
                {
                    throw SecurityFormatException.AtOffset(baseOffset + start + 1, $"SID token of {length} bytes holds a shorter SID");
                }

                return build ? new ConditionToken { Type = type, Sid = SecurityIdentifier.FromBinary(payload) } : null;
            default:
                if (compositeDepth >= MaxCompositeDepth)
                {
                    throw SecurityFormatException.AtOffset(baseOffset + start, $"Composites nest deeper than {MaxCompositeDepth}");
                }

                var elements = build ? new List<ConditionToken>() : null;
                var inner = payloadStart;
                while (inner < position)
                {
                    if (data[inner] >= (byte)ConditionTokenType.LocalAttribute)
                    {
                        throw SecurityFormatException.AtOffset(baseOffset + inner, "An attribute cannot stand in a composite");
                    }

                    var element = ReadOperand(data, ref inner, position, baseOffset, build, compositeDepth + 1);
                    elements?.Add(element!);
                }

                return build ? new ConditionToken { Type = type, Elements = elements! } : null;
        }
    }

    private static int Measure(ConditionToken token) => token.Type switch
    {
        >= ConditionTokenType.Int8 and <= ConditionTokenType.Int64 => 11,
        ConditionTokenType.UnicodeString or >= ConditionTokenType.LocalAttribute => 5 + (2 * (token.Text ?? string.Empty).Length),
        ConditionTokenType.OctetString => 5 + token.Octets.Length,
        ConditionTokenType.Sid => 5 + (token.Sid ?? throw new InvalidOperationException("A SID token has no SID.")).BinaryLength,
        ConditionTokenType.Composite => 5 + token.Elements.Sum(Measure),
        _ => 1,
    };

    private static int Write(ConditionToken token, Span<byte> target)
    {
        target[0] = (byte)token.Type;
        switch (token.Type)
        {
            case >= ConditionTokenType.Int8 and <= ConditionTokenType.Int64:
                BinaryPrimitives.WriteInt64LittleEndian(target[1..], token.Integer);
                target[9] = (byte)token.Sign;
                target[10] = (byte)token.Base;
                return 11;
            case ConditionTokenType.UnicodeString or >= ConditionTokenType.LocalAttribute:
                return WritePayload(MemoryMarshal.AsBytes((token.Text ?? string.Empty).AsSpan()), target);
            case ConditionTokenType.OctetString:
                return WritePayload(token.Octets.Span, target);
            case ConditionTokenType.Sid:
                return WritePayload(token.Sid!.Binary, target);
            case ConditionTokenType.Composite:
                var position = 5;
                foreach (var element in token.Elements)
                {
                    position += Write(element, target[position..]);
                }

                BinaryPrimitives.WriteUInt32LittleEndian(target[1..], (uint)(position - 5));
                return position;
            default:
                return 1;
        }
    }

    private static int WritePayload(ReadOnlySpan<byte> payload, Span<byte> target)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(target[1..], (uint)payload.Length);
        payload.CopyTo(target[5..]);
        return 5 + payload.Length;
    }
}
