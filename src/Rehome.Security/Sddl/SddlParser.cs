using System.Globalization;
using Rehome.Security.Conditions;
using Rehome.Security.Descriptors;
using Rehome.Security.Sids;

namespace Rehome.Security.Sddl;

/// <summary>
/// Parses the Security Descriptor Definition Language into a <see cref="SecurityDescriptor"/>. Errors are
/// <see cref="SecurityFormatException"/>s carrying the character position.
/// </summary>
public static class SddlParser
{
    /// <summary>
    /// Parses <paramref name="sddl"/>; domain-relative aliases (DA, DU, …) resolve in <paramref name="domain"/> and are
    /// an error without it.
    /// </summary>
    public static SecurityDescriptor Parse(string sddl, SecurityIdentifier? domain = null)
    {
        ArgumentNullException.ThrowIfNull(sddl);
        var reader = new Reader(sddl, domain);
        return reader.ReadDescriptor();
    }

    /// <summary>
    /// Reads a SID string (S-1-…) or a two-letter alias at <paramref name="position"/>; positions in errors are offset
    /// by <paramref name="basePosition"/>.
    /// </summary>
    internal static SecurityIdentifier ReadSidString(string text, ref int position, int basePosition, SecurityIdentifier? domain)
    {
        var start = position;
        if (position + 1 < text.Length && text[position] is 'S' or 's' && text[position + 1] == '-')
        {
            var sid = SecurityIdentifier.ParseAt(text.AsSpan(position), basePosition + position, out var consumed);
            position += consumed;
            return sid;
        }

        if (position + 2 > text.Length)
        {
            throw SecurityFormatException.AtPosition(basePosition + start, "Expected a SID or a two-letter SID alias");
        }

        var alias = text.Substring(position, 2);
        position += 2;
        return WellKnownSids.FromAlias(alias, domain) ?? throw SecurityFormatException.AtPosition(basePosition + start, WellKnownSids.IsDomainAlias(alias)
            ? $"Alias '{alias}' is relative to a domain, and no domain SID was given"
            : $"Unknown SID alias '{alias}'");
    }

    private sealed class Reader(string text, SecurityIdentifier? domain)
    {
        private int position;

        public SecurityDescriptor ReadDescriptor()
        {
            var descriptor = new SecurityDescriptor { Control = ControlFlags.SelfRelative };
            var seen = new HashSet<char>();
            while (position < text.Length)
            {
                var sectionStart = position;
                if (position + 1 >= text.Length || text[position + 1] != ':')
                {
                    throw Error(position, "Expected a section O:, G:, D: or S:");
                }

                var section = text[position];
                if (!seen.Add(section))
                {
                    throw Error(sectionStart, $"Section {section}: appears twice");
                }

                position += 2;
                switch (section)
                {
                    case 'O':
                        descriptor.Owner = ReadSid(stopAtSection: true);
                        break;
                    case 'G':
                        descriptor.Group = ReadSid(stopAtSection: true);
                        break;
                    case 'D':
                        descriptor.Dacl = ReadAcl(isSystem: false, out var daclFlags, out var daclNull);
                        descriptor.Control |= daclFlags | ControlFlags.DaclPresent;
                        if (daclNull)
                        {
                            descriptor.Dacl = null;
                        }

                        break;
                    case 'S':
                        descriptor.Sacl = ReadAcl(isSystem: true, out var saclFlags, out var saclNull);
                        descriptor.Control |= saclFlags | ControlFlags.SaclPresent;
                        if (saclNull)
                        {
                            throw Error(sectionStart, "NO_ACCESS_CONTROL is only meaningful for a DACL");
                        }

                        break;
                    default:
                        throw Error(sectionStart, $"Unknown section '{section}:'");
                }
            }

            return descriptor;
        }

        private Acl ReadAcl(bool isSystem, out ControlFlags flags, out bool isNull)
        {
            flags = ControlFlags.None;
            isNull = false;
            const string noAccessControl = "NO_ACCESS_CONTROL";
            while (position < text.Length && text[position] != '(' && !AtSection())
            {
                if (string.CompareOrdinal(text, position, noAccessControl, 0, noAccessControl.Length) == 0)
                {
                    isNull = true;
                    position += noAccessControl.Length;
                }
                else if (text[position] == 'P')
                {
                    flags |= isSystem ? ControlFlags.SaclProtected : ControlFlags.DaclProtected;
                    position++;
                }
                else if (Next("AI"))
                {
                    flags |= isSystem ? ControlFlags.SaclAutoInherited : ControlFlags.DaclAutoInherited;
                }
                else if (Next("AR"))
                {
                    flags |= isSystem ? ControlFlags.SaclAutoInheritRequired : ControlFlags.DaclAutoInheritRequired;
                }
                else
                {
                    throw Error(position, "Expected an ACL flag (P, AI, AR, NO_ACCESS_CONTROL) or '('");
                }
            }

            var acl = new Acl();
            while (position < text.Length && text[position] == '(')
            {
                var ace = ReadAce();
                if (AceTypes.LayoutOf(ace.Type) == AceLayout.Object)
                {
                    acl.Revision = 4;
                }

                acl.Aces.Add(ace);
            }

            if (isNull && acl.Aces.Count > 0)
            {
                throw Error(position, "A NO_ACCESS_CONTROL DACL cannot have ACEs");
            }

            return acl;
        }

        private Ace ReadAce()
        {
            var aceStart = position;
            position++; // '('
            var typeStart = position;
            var typeWord = ReadField();
            var type = Lookup(SddlVocabulary.AceTypeWords, typeWord, typeStart, "ACE type");
            Expect(';');

            var flagsStart = position;
            var flagsText = ReadField();
            var flags = AceFlags.None;
            for (var index = 0; index < flagsText.Length; index += 2)
            {
                if (index + 2 > flagsText.Length)
                {
                    throw Error(flagsStart + index, $"Incomplete ACE flag '{flagsText[index..]}'");
                }

                flags |= Lookup(SddlVocabulary.AceFlagWords, flagsText.Substring(index, 2), flagsStart + index, "ACE flag");
            }

            Expect(';');
            var rightsStart = position;
            var mask = ParseRights(ReadField(), rightsStart, type == AceType.SystemMandatoryLabel);
            Expect(';');
            var objectType = ReadGuid();
            Expect(';');
            var inheritedObjectType = ReadGuid();
            Expect(';');
            if (AceTypes.LayoutOf(type) != AceLayout.Object && (objectType.HasValue || inheritedObjectType.HasValue))
            {
                throw Error(rightsStart, $"ACE type {typeWord} cannot carry object GUIDs");
            }

            var sid = ReadSid(stopAtSection: false);
            var applicationData = ReadOnlyMemory<byte>.Empty;
            if (position < text.Length && text[position] == ';')
            {
                position++;
                var conditionStart = position;
                var condition = ReadCondition();
                applicationData = AceTypes.IsCallback(type) ? ConditionalExpression.Parse(condition, conditionStart, domain).ToBinary()
                    : type == AceType.SystemResourceAttribute ? ResourceAttribute.Parse(condition, conditionStart, domain).ToBinary()
                    : throw Error(conditionStart, $"ACE type {typeWord} cannot carry a condition or a resource attribute");
            }

            if (position >= text.Length || text[position] != ')')
            {
                throw Error(position, $"Expected ')' to close the ACE that starts at position {aceStart}");
            }

            position++;
            return new Ace
            {
                Type = type,
                Flags = flags,
                AccessMask = mask,
                Sid = sid,
                ObjectType = objectType,
                InheritedObjectType = inheritedObjectType,
                ApplicationData = applicationData,
            };
        }

        // The condition (or resource attribute) is everything up to the ACE's closing parenthesis, respecting nested
        // parentheses and quoted strings; it is compiled to binary afterwards.
        private string ReadCondition()
        {
            var start = position;
            var depth = 0;
            var quoted = false;
            while (position < text.Length)
            {
                var character = text[position];
                if (quoted)
                {
                    quoted = character != '"';
                }
                else if (character == '"')
                {
                    quoted = true;
                }
                else if (character == '(')
                {
                    depth++;
                }
                else if (character == ')')
                {
                    if (depth == 0)
                    {
                        break;
                    }

                    depth--;
                }

                position++;
            }

            if (position >= text.Length)
            {
                throw Error(start, quoted ? "Unterminated string in the ACE condition" : "Unbalanced parentheses in the ACE condition");
            }

            if (position == start)
            {
                throw Error(start, "Empty ACE condition");
            }

            return text[start..position];
        }

        private static uint ParseRights(string rights, int start, bool isLabel)
        {
            if (rights.Length == 0)
            {
                return 0;
            }

            if (rights.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            {
                var digits = rights.AsSpan(2);
                if (digits.Length is 0 or > 8 || !uint.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
                {
                    throw Error(start, $"Bad hexadecimal access mask '{rights}'");
                }

                return hex;
            }

            if (char.IsAsciiDigit(rights[0]))
            {
                if (!uint.TryParse(rights, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
                {
                    throw Error(start, $"Bad access mask '{rights}'");
                }

                return number;
            }

            uint mask = 0;
            for (var index = 0; index < rights.Length; index += 2)
            {
                if (index + 2 > rights.Length)
                {
                    throw Error(start + index, $"Incomplete access right '{rights[index..]}'");
                }

                var word = rights.Substring(index, 2);
                mask |= FindRight(word, isLabel) ?? throw Error(start + index, $"Unknown access right '{word}'");
            }

            return mask;
        }

        private static uint? FindRight(string word, bool isLabel)
        {
            if (isLabel)
            {
                foreach (var (labelWord, labelMask) in SddlVocabulary.LabelRights)
                {
                    if (labelWord == word)
                    {
                        return labelMask;
                    }
                }
            }

            foreach (var (compositeWord, compositeMask) in SddlVocabulary.CompositeRights)
            {
                if (compositeWord == word)
                {
                    return compositeMask;
                }
            }

            foreach (var (bitWord, bitMask) in SddlVocabulary.BitRights)
            {
                if (bitWord == word)
                {
                    return bitMask;
                }
            }

            return null;
        }

        private Guid? ReadGuid()
        {
            var start = position;
            var field = ReadField();
            if (field.Length == 0)
            {
                return null;
            }

            return Guid.TryParseExact(field, "D", out var guid) ? guid : throw Error(start, $"Bad GUID '{field}'");
        }

        private SecurityIdentifier ReadSid(bool stopAtSection)
        {
            var resolved = ReadSidString(text, ref position, 0, domain);
            if (!stopAtSection && position < text.Length && text[position] != ';' && text[position] != ')')
            {
                throw Error(position, $"Unexpected '{text[position]}' after the SID");
            }

            return resolved;
        }

        private string ReadField()
        {
            var start = position;
            while (position < text.Length && text[position] != ';' && text[position] != ')' && text[position] != '(')
            {
                position++;
            }

            return text[start..position];
        }

        private void Expect(char character)
        {
            if (position >= text.Length || text[position] != character)
            {
                throw Error(position, position >= text.Length ? $"Expected '{character}', the text ended" : $"Expected '{character}', found '{text[position]}'");
            }

            position++;
        }

        private bool Next(string word)
        {
            if (string.CompareOrdinal(text, position, word, 0, word.Length) != 0)
            {
                return false;
            }

            position += word.Length;
            return true;
        }

        private bool AtSection() => position + 1 < text.Length && text[position + 1] == ':' && text[position] is 'O' or 'G' or 'D' or 'S';

        private static T Lookup<T>((string Word, T Value)[] table, string word, int start, string what)
        {
            foreach (var (candidate, value) in table)
            {
                if (candidate == word)
                {
                    return value;
                }
            }

            throw Error(start, word.Length == 0 ? $"Missing {what}" : $"Unknown {what} '{word}'");
        }

        private static SecurityFormatException Error(int at, string problem) => SecurityFormatException.AtPosition(at, problem);
    }
}
