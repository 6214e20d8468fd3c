using Rehome.Security.Sids;

namespace Rehome.Security.Conditions;

/// <summary>Byte codes of conditional expression tokens (MS-DTYP 2.4.4.17.4–2.4.4.17.8).</summary>
#pragma warning disable CA1028 // The wire format is one byte.
public enum ConditionTokenType : byte
#pragma warning restore CA1028
{
    Padding = 0x00,
    Int8 = 0x01,
    Int16 = 0x02,
    Int32 = 0x03,
    Int64 = 0x04,
    UnicodeString = 0x10,
    OctetString = 0x18,
    Composite = 0x50,
    Sid = 0x51,
    Equals = 0x80,
    NotEquals = 0x81,
    LessThan = 0x82,
    LessThanOrEqual = 0x83,
    GreaterThan = 0x84,
    GreaterThanOrEqual = 0x85,
    Contains = 0x86,
    Exists = 0x87,
    AnyOf = 0x88,
    MemberOf = 0x89,
    DeviceMemberOf = 0x8A,
    MemberOfAny = 0x8B,
    DeviceMemberOfAny = 0x8C,
    NotExists = 0x8D,
    NotContains = 0x8E,
    NotAnyOf = 0x8F,
    NotMemberOf = 0x90,
    NotDeviceMemberOf = 0x91,
    NotMemberOfAny = 0x92,
    NotDeviceMemberOfAny = 0x93,
    And = 0xA0,
    Or = 0xA1,
    Not = 0xA2,
    LocalAttribute = 0xF8,
    UserAttribute = 0xF9,
    ResourceAttribute = 0xFA,
    DeviceAttribute = 0xFB,
}

/// <summary>The sign byte of an integer literal: how the literal was written, not the value's sign.</summary>
#pragma warning disable CA1028 // The wire format is one byte.
public enum IntegerSign : byte
#pragma warning restore CA1028
{
    Plus = 1,
    Minus = 2,
    None = 3,
}

/// <summary>The base byte of an integer literal: how it was written.</summary>
#pragma warning disable CA1028 // The wire format is one byte.
public enum IntegerBase : byte
#pragma warning restore CA1028
{
    Octal = 1,
    Decimal = 2,
    Hexadecimal = 3,
}

/// <summary>
/// One token of a conditional expression in postfix order: a literal, an attribute, or an operator. Which members
/// are meaningful depends on <see cref="Type"/>.
/// </summary>
public sealed class ConditionToken
{
    public ConditionTokenType Type { get; init; }

    /// <summary>The value of integer literals.</summary>
    public long Integer { get; init; }

    public IntegerSign Sign { get; init; } = IntegerSign.None;

    public IntegerBase Base { get; init; } = IntegerBase.Decimal;

    /// <summary>The characters of a Unicode string literal, or the name of an attribute (without its @User. prefix).</summary>
    public string? Text { get; init; }

    /// <summary>The bytes of an octet string literal.</summary>
    public ReadOnlyMemory<byte> Octets { get; init; }

    /// <summary>The SID of a SID literal.</summary>
    public SecurityIdentifier? Sid { get; init; }

    /// <summary>The elements of a composite literal.</summary>
    public IReadOnlyList<ConditionToken> Elements { get; init; } = [];

    internal static ConditionToken Operator(ConditionTokenType type) => new() { Type = type };

    /// <summary>The same token with every SID (in composites too) passed through <paramref name="map"/>.</summary>
    public ConditionToken MapSids(Func<SecurityIdentifier, SecurityIdentifier> map)
    {
        ArgumentNullException.ThrowIfNull(map);
        return Type switch
        {
            ConditionTokenType.Sid => new ConditionToken { Type = Type, Sid = map(Sid!) },
            ConditionTokenType.Composite => new ConditionToken { Type = Type, Elements = [.. Elements.Select(element => element.MapSids(map))] },
            _ => this,
        };
    }
}
