using Rehome.Security.Conditions;
using Rehome.Security.Sids;

namespace Rehome.Security.Tests.Support;

/// <summary>Random but reproducible conditional expressions and resource attributes, with SIDs from <paramref name="nextSid"/>.</summary>
internal sealed class ConditionGenerator(Random random, Func<SecurityIdentifier> nextSid)
{
    private static readonly ConditionTokenType[] Relational =
    [
        ConditionTokenType.Equals, ConditionTokenType.NotEquals, ConditionTokenType.LessThan, ConditionTokenType.LessThanOrEqual,
        ConditionTokenType.GreaterThan, ConditionTokenType.GreaterThanOrEqual, ConditionTokenType.Contains, ConditionTokenType.AnyOf,
        ConditionTokenType.NotContains, ConditionTokenType.NotAnyOf,
    ];

    private static readonly ConditionTokenType[] Membership =
    [
        ConditionTokenType.MemberOf, ConditionTokenType.DeviceMemberOf, ConditionTokenType.MemberOfAny, ConditionTokenType.DeviceMemberOfAny,
        ConditionTokenType.NotMemberOf, ConditionTokenType.NotDeviceMemberOf, ConditionTokenType.NotMemberOfAny, ConditionTokenType.NotDeviceMemberOfAny,
    ];

    // Plain names, names that need %XXXX escapes, and local names that read as numbers or keywords unless escaped.
    private static readonly string[] Names = ["Title", "division", "clearance.Level", "a:b/c_d", "Ünïcode", "with space", "100%", "x@y", "Exists", "sid", "7up", "Member_of"];

    public ConditionalExpression NextExpression(bool allowShortIntegers = false)
    {
        var tokens = new List<ConditionToken>();
        AddCondition(tokens, depth: 0, allowShortIntegers);
        return ConditionalExpression.FromTokens(tokens);
    }

    public ResourceAttribute NextResourceAttribute()
    {
        var type = (ResourceAttributeType)new ushort[] { 1, 2, 3, 5, 6, 0x10 }[random.Next(6)];
        var values = Enumerable.Range(0, random.Next(0, 4)).Select(_ => type switch
        {
            ResourceAttributeType.Int64 => (object)random.NextInt64(long.MinValue, long.MaxValue),
            ResourceAttributeType.UInt64 => (ulong)random.NextInt64() * 3,
            ResourceAttributeType.Boolean => (ulong)random.Next(2),
            ResourceAttributeType.String => NextString(),
            ResourceAttributeType.Sid => nextSid(),
            _ => NextOctets(),
        }).ToList();
        return new ResourceAttribute { Name = NextString(), ValueType = type, Flags = (uint)random.Next(0, 0x30000), Values = values };
    }

    private void AddCondition(List<ConditionToken> tokens, int depth, bool allowShortIntegers)
    {
        switch (random.Next(depth > 3 ? 4 : 7))
        {
            case 0:
                tokens.Add(NextAttribute());
                tokens.Add(NextValue(allowShortIntegers, compositeDepth: 0));
                tokens.Add(ConditionToken.Operator(Relational[random.Next(Relational.Length)]));
                break;
            case 1:
                tokens.Add(random.Next(2) == 0 ? NextSidToken() : new ConditionToken
                {
                    Type = ConditionTokenType.Composite,
                    Elements = [.. Enumerable.Range(0, random.Next(1, 4)).Select(_ => NextSidToken())],
                });
                tokens.Add(ConditionToken.Operator(Membership[random.Next(Membership.Length)]));
                break;
            case 2:
                tokens.Add(NextAttribute());
                tokens.Add(ConditionToken.Operator(random.Next(2) == 0 ? ConditionTokenType.Exists : ConditionTokenType.NotExists));
                break;
            case 3:
                tokens.Add(NextAttribute());
                break;
            case 6:
                AddCondition(tokens, depth + 1, allowShortIntegers);
                tokens.Add(ConditionToken.Operator(ConditionTokenType.Not));
                break;
            default:
                AddCondition(tokens, depth + 1, allowShortIntegers);
                AddCondition(tokens, depth + 1, allowShortIntegers);
                tokens.Add(ConditionToken.Operator(random.Next(2) == 0 ? ConditionTokenType.And : ConditionTokenType.Or));
                break;
        }
    }

    private ConditionToken NextAttribute() => new()
    {
        Type = new[] { ConditionTokenType.LocalAttribute, ConditionTokenType.UserAttribute, ConditionTokenType.ResourceAttribute, ConditionTokenType.DeviceAttribute }[random.Next(4)],
        Text = Names[random.Next(Names.Length)],
    };

    private ConditionToken NextSidToken() => new() { Type = ConditionTokenType.Sid, Sid = nextSid() };

    private ConditionToken NextValue(bool allowShortIntegers, int compositeDepth)
    {
        switch (random.Next(compositeDepth < 2 ? 6 : 4))
        {
            case 0:
                // The sign byte records how the literal was written, so it agrees with the value in text.
                var value = random.Next(3) switch { 0 => random.NextInt64(-200, 200), 1 => long.MinValue, _ => random.NextInt64(long.MinValue, long.MaxValue) };
                var sign = value < 0 ? IntegerSign.Minus : random.Next(2) == 0 ? IntegerSign.Plus : IntegerSign.None;
                var type = ConditionTokenType.Int64;
                if (allowShortIntegers && value is >= sbyte.MinValue and <= sbyte.MaxValue)
                {
                    type = (ConditionTokenType)random.Next(1, 5);
                }

                return new ConditionToken { Type = type, Integer = value, Sign = sign, Base = (IntegerBase)random.Next(1, 4) };
            case 1:
                return new ConditionToken { Type = ConditionTokenType.UnicodeString, Text = NextString() };
            case 2:
                return new ConditionToken { Type = ConditionTokenType.OctetString, Octets = NextOctets() };
            case 3:
                return NextSidToken();
            case 4:
                return NextAttribute();
            default:
                return new ConditionToken
                {
                    Type = ConditionTokenType.Composite,
                    Elements = [.. Enumerable.Range(0, random.Next(0, 4)).Select(_ => NextValue(allowShortIntegers, compositeDepth + 1)).Where(token => token.Type < ConditionTokenType.LocalAttribute)],
                };
        }
    }

    private string NextString() => new[] { string.Empty, "PM", " Sales", "Finance & (Ops)", "ünï;cödé", "a,b{c}", "\u00e9t\u00e9" }[random.Next(7)];

    private byte[] NextOctets()
    {
        var bytes = new byte[random.Next(0, 6)];
        random.NextBytes(bytes);
        return bytes;
    }
}
