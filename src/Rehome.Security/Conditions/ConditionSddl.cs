using System.Globalization;
using System.Text;
using Rehome.Security.Sddl;
using Rehome.Security.Sids;

namespace Rehome.Security.Conditions;

/// <summary>
/// The SDDL text form of conditional expressions (MS-DTYP 2.5.1.1): printing postfix tokens as fully parenthesised
/// infix text, and parsing text (|| below &amp;&amp; below !, relational operators binding tightest) back to tokens.
/// </summary>
internal static class ConditionSddl
{
    private static readonly (ConditionTokenType Type, string Word)[] Operators =
    [
        (ConditionTokenType.Equals, "=="), (ConditionTokenType.NotEquals, "!="), (ConditionTokenType.LessThanOrEqual, "<="),
        (ConditionTokenType.LessThan, "<"), (ConditionTokenType.GreaterThanOrEqual, ">="), (ConditionTokenType.GreaterThan, ">"),
        (ConditionTokenType.And, "&&"), (ConditionTokenType.Or, "||"), (ConditionTokenType.Not, "!"),
        (ConditionTokenType.Contains, "Contains"), (ConditionTokenType.AnyOf, "Any_of"),
        (ConditionTokenType.NotContains, "Not_Contains"), (ConditionTokenType.NotAnyOf, "Not_Any_of"),
        (ConditionTokenType.MemberOf, "Member_of"), (ConditionTokenType.DeviceMemberOf, "Device_Member_of"),
        (ConditionTokenType.MemberOfAny, "Member_of_Any"), (ConditionTokenType.DeviceMemberOfAny, "Device_Member_of_Any"),
        (ConditionTokenType.NotMemberOf, "Not_Member_of"), (ConditionTokenType.NotDeviceMemberOf, "Not_Device_Member_of"),
        (ConditionTokenType.NotMemberOfAny, "Not_Member_of_Any"), (ConditionTokenType.NotDeviceMemberOfAny, "Not_Device_Member_of_Any"),
        (ConditionTokenType.Exists, "Exists"), (ConditionTokenType.NotExists, "Not_Exists"),
    ];

    private static readonly (ConditionTokenType Type, string Prefix)[] AttributePrefixes =
    [
        (ConditionTokenType.UserAttribute, "@User."), (ConditionTokenType.DeviceAttribute, "@Device."),
        (ConditionTokenType.ResourceAttribute, "@Resource."), (ConditionTokenType.LocalAttribute, string.Empty),
    ];

    public static string Write(IReadOnlyList<ConditionToken> tokens, SecurityIdentifier? domain)
    {
        var stack = new Stack<(string Text, bool Bare)>();
        foreach (var token in tokens)
        {
            var arity = ConditionalExpression.Arity((byte)token.Type);
            if (arity <= 0)
            {
                stack.Push((WriteOperand(token, domain), true));
            }
            else if (arity == 1)
            {
                var operand = stack.Pop().Text;
                stack.Push((token.Type == ConditionTokenType.Not ? $"(!{operand})" : $"({WordOf(token.Type)} {operand})", false));
            }
            else
            {
                var right = stack.Pop().Text;
                var left = stack.Pop().Text;
                stack.Push(($"({left} {WordOf(token.Type)} {right})", false));
            }
        }

        var (text, bare) = stack.Pop();
        return bare ? $"({text})" : text;
    }

    /// <summary>The SDDL form of a literal, also used for resource attribute values.</summary>
    public static string WriteOperand(ConditionToken token, SecurityIdentifier? domain)
    {
        switch (token.Type)
        {
            case >= ConditionTokenType.Int8 and <= ConditionTokenType.Int64:
                return WriteInteger(token.Integer, token.Sign, token.Base);
            case ConditionTokenType.UnicodeString:
                return WriteString(token.Text!);
            case ConditionTokenType.OctetString:
                return "#" + Convert.ToHexStringLower(token.Octets.Span);
            case ConditionTokenType.Sid:
                return "SID(" + (WellKnownSids.ToAlias(token.Sid!, domain) ?? token.Sid!.ToString()) + ")";
            case ConditionTokenType.Composite:
                return "{" + string.Join(", ", token.Elements.Select(element => WriteOperand(element, domain))) + "}";
            default:
                var prefix = Array.Find(AttributePrefixes, entry => entry.Type == token.Type).Prefix;
                return prefix + WriteName(token.Text!, local: prefix.Length == 0);
        }
    }

    public static string WriteString(string text) => text.Contains('"', StringComparison.Ordinal)
        ? throw new InvalidOperationException("A string holding '\"' has no SDDL form.")
        : "\"" + text + "\"";

    private static string WriteInteger(long value, IntegerSign sign, IntegerBase numberBase)
    {
        var magnitude = value < 0 ? (ulong)(-(value + 1)) + 1 : (ulong)value;
        var digits = numberBase switch
        {
            IntegerBase.Octal => "0" + Convert.ToString((long)magnitude, 8),
            IntegerBase.Hexadecimal => "0x" + magnitude.ToString("x", CultureInfo.InvariantCulture),
            _ => magnitude.ToString(CultureInfo.InvariantCulture),
        };
        if (numberBase == IntegerBase.Octal && magnitude == 0)
        {
            digits = "00";
        }

        return (value < 0 || sign == IntegerSign.Minus ? "-" : sign == IntegerSign.Plus ? "+" : string.Empty) + digits;
    }

    // Characters outside the plain attribute set are written %XXXX; so is the first character of a local name that
    // would otherwise read as a number or a keyword.
    private static string WriteName(string name, bool local)
    {
        if (name.Length == 0)
        {
            throw new InvalidOperationException("An attribute with an empty name has no SDDL form.");
        }

        var builder = new StringBuilder(name.Length + 8);
        var escapeFirst = local && (char.IsAsciiDigit(name[0]) || IsKeyword(name));
        for (var index = 0; index < name.Length; index++)
        {
            var character = name[index];
            if (IsPlainNameCharacter(character) && !(index == 0 && escapeFirst))
            {
                builder.Append(character);
            }
            else
            {
                builder.Append('%').Append(((int)character).ToString("x4", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    private static bool IsKeyword(string word) => string.Equals(word, "SID", StringComparison.OrdinalIgnoreCase)
        || Array.Exists(Operators, entry => string.Equals(entry.Word, word, StringComparison.OrdinalIgnoreCase));

    private static bool IsPlainNameCharacter(char character) => char.IsAsciiLetterOrDigit(character) || character is ':' or '.' or '/' or '_';

    private static string WordOf(ConditionTokenType type) => Array.Find(Operators, entry => entry.Type == type).Word;

    public static List<ConditionToken> Parse(string text, int basePosition, SecurityIdentifier? domain)
    {
        var reader = new Reader(text, basePosition, domain);
        return reader.ReadCondition();
    }

    /// <summary>Reads SDDL literals and conditions, appending tokens in postfix order.</summary>
    internal sealed class Reader(string text, int basePosition, SecurityIdentifier? domain)
    {
        private readonly List<ConditionToken> tokens = [];
        private int position;

        public List<ConditionToken> ReadCondition()
        {
            SkipSpace();
            if (position >= text.Length || text[position] != '(')
            {
                throw Error(position, "A condition starts with '('");
            }

            ReadOr(0);
            SkipSpace();
            if (position < text.Length)
            {
                throw Error(position, $"Unexpected '{text[position]}' after the condition");
            }

            return tokens;
        }

        private int ReadOr(int nesting)
        {
            var depth = ReadAnd(nesting);
            while (SkipSpaceAndMatch("||"))
            {
                depth = Combine(depth, ReadAnd(nesting), ConditionTokenType.Or);
            }

            return depth;
        }

        private int ReadAnd(int nesting)
        {
            var depth = ReadNot(nesting);
            while (SkipSpaceAndMatch("&&"))
            {
                depth = Combine(depth, ReadNot(nesting), ConditionTokenType.And);
            }

            return depth;
        }

        private int ReadNot(int nesting)
        {
            SkipSpace();
            if (position < text.Length && text[position] == '!' && !(position + 1 < text.Length && text[position + 1] == '='))
            {
                var start = position++;
                CheckNesting(start, nesting + 1);
                return Combine(ReadNot(nesting + 1), 0, ConditionTokenType.Not);
            }

            return ReadRelation(nesting);
        }

        private int ReadRelation(int nesting)
        {
            SkipSpace();
            var start = position;
            var word = PeekWord();
            var unary = Array.Find(Operators, entry => ConditionalExpression.Arity((byte)entry.Type) == 1 && entry.Type != ConditionTokenType.Not
                && string.Equals(entry.Word, word, StringComparison.OrdinalIgnoreCase));
            if (unary.Word is not null)
            {
                position += word.Length;
                SkipSpace();
                return Combine(ReadPrimary(nesting), 0, unary.Type, start);
            }

            var left = ReadPrimary(nesting);
            SkipSpace();
            var operatorStart = position;
            var binary = FindRelationalOperator();
            if (binary is not { } type)
            {
                return left;
            }

            SkipSpace();
            return Combine(left, ReadPrimary(nesting), type, operatorStart);
        }

        private ConditionTokenType? FindRelationalOperator()
        {
            foreach (var (type, word) in Operators)
            {
                if (type is ConditionTokenType.And or ConditionTokenType.Or or ConditionTokenType.Not || ConditionalExpression.Arity((byte)type) != 2)
                {
                    continue;
                }

                var isWord = char.IsAsciiLetter(word[0]);
                if (isWord ? string.Equals(PeekWord(), word, StringComparison.OrdinalIgnoreCase)
                    : string.CompareOrdinal(text, position, word, 0, word.Length) == 0)
                {
                    position += word.Length;
                    return type;
                }
            }

            return null;
        }

        private int ReadPrimary(int nesting)
        {
            SkipSpace();
            if (position < text.Length && text[position] == '(')
            {
                var start = position++;
                CheckNesting(start, nesting + 1);
                var depth = ReadOr(nesting + 1);
                SkipSpace();
                if (position >= text.Length || text[position] != ')')
                {
                    throw Error(position, $"Expected ')' to close the '(' at position {basePosition + start}");
                }

                position++;
                return depth;
            }

            tokens.Add(ReadOperand(allowAttribute: true));
            return 0;
        }

        private int Combine(int left, int right, ConditionTokenType type, int at = -1)
        {
            var depth = Math.Max(left, right) + 1;
            if (depth > ConditionalExpression.MaxDepth)
            {
                throw Error(at < 0 ? position : at, $"The condition nests deeper than {ConditionalExpression.MaxDepth}");
            }

            tokens.Add(ConditionToken.Operator(type));
            return depth;
        }

        private void CheckNesting(int at, int nesting)
        {
            if (nesting > ConditionalExpression.MaxDepth)
            {
                throw Error(at, $"The condition nests deeper than {ConditionalExpression.MaxDepth}");
            }
        }

        /// <summary>Reads a literal (or, where allowed, an attribute) at the current position.</summary>
        public ConditionToken ReadOperand(bool allowAttribute, int compositeDepth = 0)
        {
            SkipSpace();
            var start = position;
            if (position >= text.Length)
            {
                throw Error(position, "Expected an attribute or a value, the condition ended");
            }

            var character = text[position];
            switch (character)
            {
                case '"':
                    return new ConditionToken { Type = ConditionTokenType.UnicodeString, Text = ReadString() };
                case '#':
                    return new ConditionToken { Type = ConditionTokenType.OctetString, Octets = ReadOctets() };
                case '{':
                    return ReadComposite(compositeDepth);
                case '+' or '-':
                case >= '0' and <= '9':
                    return ReadInteger();
                case '@' when allowAttribute:
                    foreach (var (type, prefix) in AttributePrefixes)
                    {
                        if (prefix.Length > 0 && string.Compare(text, position, prefix, 0, prefix.Length, StringComparison.OrdinalIgnoreCase) == 0)
                        {
                            position += prefix.Length;
                            return new ConditionToken { Type = type, Text = ReadName(start) };
                        }
                    }

                    throw Error(start, "An attribute name starts with @User., @Device. or @Resource.");
            }

            var word = PeekWord();
            if (string.Equals(word, "SID", StringComparison.OrdinalIgnoreCase) && position + 3 < text.Length && text[position + 3] == '(')
            {
                position += 4;
                SkipSpace();
                var sid = ReadSidString();
                SkipSpace();
                Expect(')');
                return new ConditionToken { Type = ConditionTokenType.Sid, Sid = sid };
            }

            if (word.Length == 0 || !allowAttribute)
            {
                throw Error(start, allowAttribute ? $"Unexpected '{character}' where an attribute or a value belongs" : $"Unexpected '{character}' where a value belongs");
            }

            if (IsKeyword(word))
            {
                throw Error(start, $"Operator '{word}' where an attribute or a value belongs");
            }

            return new ConditionToken { Type = ConditionTokenType.LocalAttribute, Text = ReadName(start) };
        }

        /// <summary>A quoted string without escapes.</summary>
        public string ReadString()
        {
            var start = position;
            Expect('"');
            var end = text.IndexOf('"', position);
            if (end < 0)
            {
                throw Error(start, "Unterminated string");
            }

            var value = text[position..end];
            position = end + 1;
            return value;
        }

        /// <summary>
        /// '#' and hexadecimal digits, where '#' also stands for '0' and an odd count has a leading zero implied:
        /// #1#2#3## is #01020300.
        /// </summary>
        public byte[] ReadOctets()
        {
            Expect('#');
            var digitsStart = position;
            while (position < text.Length && (char.IsAsciiHexDigit(text[position]) || text[position] == '#'))
            {
                position++;
            }

            if (position < text.Length && (IsPlainNameCharacter(text[position]) || text[position] is '@' or '%'))
            {
                throw Error(position, "Malformed octet string");
            }

            var digits = text[digitsStart..position].Replace('#', '0');
            return Convert.FromHexString(digits.Length % 2 == 0 ? digits : "0" + digits);
        }

        /// <summary>An integer: optional sign, then decimal, 0x hexadecimal or 0-prefixed octal digits.</summary>
        public ConditionToken ReadInteger()
        {
            var start = position;
            var sign = IntegerSign.None;
            if (position < text.Length && text[position] is '+' or '-')
            {
                sign = text[position] == '-' ? IntegerSign.Minus : IntegerSign.Plus;
                position++;
            }

            var magnitude = ReadMagnitude(start, out var numberBase);
            if (magnitude > (sign == IntegerSign.Minus ? 1UL << 63 : long.MaxValue))
            {
                throw Error(start, "The integer does not fit in 64 bits");
            }

            var value = sign == IntegerSign.Minus ? (long)(0 - magnitude) : (long)magnitude;
            return new ConditionToken { Type = ConditionTokenType.Int64, Integer = value, Sign = sign, Base = numberBase };
        }

        /// <summary>An unsigned number in any of the integer bases.</summary>
        public ulong ReadUnsigned() => ReadMagnitude(position, out _);

        private ulong ReadMagnitude(int start, out IntegerBase numberBase)
        {
            numberBase = IntegerBase.Decimal;
            var radix = 10u;
            if (position + 1 < text.Length && text[position] == '0' && text[position + 1] is 'x' or 'X')
            {
                numberBase = IntegerBase.Hexadecimal;
                radix = 16;
                position += 2;
            }
            else if (position + 1 < text.Length && text[position] == '0' && char.IsAsciiDigit(text[position + 1]))
            {
                numberBase = IntegerBase.Octal;
                radix = 8;
                position++;
            }

            var digitsStart = position;
            ulong magnitude = 0;
            while (position < text.Length && char.IsAsciiHexDigit(text[position]))
            {
                var digit = (uint)(char.IsAsciiDigit(text[position]) ? text[position] - '0' : (text[position] | 0x20) - 'a' + 10);
                if (digit >= radix)
                {
                    break;
                }

                if (magnitude > (ulong.MaxValue - digit) / radix)
                {
                    throw Error(start, "The number does not fit in 64 bits");
                }

                magnitude = (magnitude * radix) + digit;
                position++;
            }

            if (position == digitsStart || (position < text.Length && (IsPlainNameCharacter(text[position]) || text[position] == '@')))
            {
                throw Error(position, "Malformed number");
            }

            return magnitude;
        }

        /// <summary>A SID string (S-1-…) or a two-letter alias.</summary>
        public SecurityIdentifier ReadSidString() => SddlParser.ReadSidString(text, ref position, basePosition, domain);

        private ConditionToken ReadComposite(int compositeDepth)
        {
            var start = position;
            if (compositeDepth >= ConditionalExpression.MaxCompositeDepth)
            {
                throw Error(start, $"Composites nest deeper than {ConditionalExpression.MaxCompositeDepth}");
            }

            position++;
            var elements = new List<ConditionToken>();
            SkipSpace();
            if (position < text.Length && text[position] == '}')
            {
                position++;
                return new ConditionToken { Type = ConditionTokenType.Composite, Elements = elements };
            }

            while (true)
            {
                elements.Add(ReadOperand(allowAttribute: false, compositeDepth + 1));
                SkipSpace();
                if (position < text.Length && text[position] == ',')
                {
                    position++;
                    continue;
                }

                if (position < text.Length && text[position] == '}')
                {
                    position++;
                    return new ConditionToken { Type = ConditionTokenType.Composite, Elements = elements };
                }

                throw Error(position, $"Expected ',' or '}}' in the composite that starts at position {basePosition + start}");
            }
        }

        private string ReadName(int start)
        {
            var builder = new StringBuilder();
            while (position < text.Length)
            {
                var character = text[position];
                if (character == '%')
                {
                    if (position + 5 > text.Length || !ushort.TryParse(text.AsSpan(position + 1, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
                    {
                        throw Error(position, "'%' in an attribute name is followed by four hexadecimal digits");
                    }

                    builder.Append((char)code);
                    position += 5;
                }
                else if (IsPlainNameCharacter(character) || (character == '@' && builder.Length > 0))
                {
                    builder.Append(character);
                    position++;
                }
                else
                {
                    break;
                }
            }

            return builder.Length > 0 ? builder.ToString() : throw Error(start, "Empty attribute name");
        }

        private string PeekWord()
        {
            var end = position;
            while (end < text.Length && (IsPlainNameCharacter(text[end]) || text[end] is '@' or '%'))
            {
                end++;
            }

            return text[position..end];
        }

        private bool SkipSpaceAndMatch(string word)
        {
            SkipSpace();
            if (string.CompareOrdinal(text, position, word, 0, word.Length) != 0)
            {
                return false;
            }

            position += word.Length;
            return true;
        }

        public void SkipSpace()
        {
            while (position < text.Length && char.IsWhiteSpace(text[position]))
            {
                position++;
            }
        }

        public void Expect(char character)
        {
            if (position >= text.Length || text[position] != character)
            {
                throw Error(position, position >= text.Length ? $"Expected '{character}', the text ended" : $"Expected '{character}', found '{text[position]}'");
            }

            position++;
        }

        public bool AtEnd => position >= text.Length;

        public int Remaining => text.Length - position;

        public char Peek => text[position];

        public char PeekAt(int ahead) => position + ahead < text.Length ? text[position + ahead] : '\0';

        public void Skip(int count) => position = Math.Min(text.Length, position + count);

        public SecurityFormatException Error(int at, string problem) => SecurityFormatException.AtPosition(basePosition + at, problem);
    }
}
