namespace Rehome.Core.Connections;

/// <summary>A light check of LDAP distinguished names (RFC 4514 shape), enough to catch typos early.</summary>
public static class DistinguishedNames
{
    private static readonly HashSet<string> KnownAttributes =
        new(["CN", "OU", "DC", "O", "L", "ST", "C", "STREET", "UID"], StringComparer.OrdinalIgnoreCase);

    public static bool IsValid(string distinguishedName)
    {
        var parts = SplitUnescaped(distinguishedName);
        if (parts.Count == 0)
        {
            return false;
        }
        foreach (var part in parts)
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || equals == part.Length - 1)
            {
                return false;
            }
            if (!KnownAttributes.Contains(part[..equals].Trim()))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The container of an entry ("OU=Laptops,DC=corp,DC=example" for "CN=PC-01,OU=Laptops,…"); null for a top entry.</summary>
    public static string? Parent(string distinguishedName)
    {
        ArgumentNullException.ThrowIfNull(distinguishedName);
        var parts = SplitUnescaped(distinguishedName);
        return parts.Count < 2 ? null : distinguishedName[(parts[0].Length + 1)..].TrimStart();
    }

    private static List<string> SplitUnescaped(string value)
    {
        var parts = new List<string>();
        var start = 0;
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\')
            {
                i++;
            }
            else if (value[i] == ',')
            {
                parts.Add(value[start..i]);
                start = i + 1;
            }
        }
        parts.Add(value[start..]);
        return parts;
    }
}
