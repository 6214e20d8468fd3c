using System.Globalization;
using System.Text;

namespace Rehome.Directory.ActiveDirectory;

/// <summary>Escaping for values placed in LDAP filters (RFC 4515), so names cannot change a filter's meaning.</summary>
internal static class LdapFilter
{
    public static string Escape(string value)
    {
        var escaped = new StringBuilder(value.Length);
        foreach (var character in value)
        {
            if (character is '*' or '(' or ')' or '\\' or '\0')
            {
                escaped.Append('\\').Append(((int)character).ToString("x2", CultureInfo.InvariantCulture));
            }
            else
            {
                escaped.Append(character);
            }
        }

        return escaped.ToString();
    }

    /// <summary>A binary value (a SID, a GUID) as a filter value: every byte escaped.</summary>
    public static string Escape(ReadOnlySpan<byte> value)
    {
        var escaped = new StringBuilder(value.Length * 3);
        foreach (var part in value)
        {
            escaped.Append('\\').Append(part.ToString("x2", CultureInfo.InvariantCulture));
        }

        return escaped.ToString();
    }
}
