namespace Rehome.Security.Stores;

/// <summary>
/// How <see cref="WindowsSecurityStore"/> names an item to Windows: file paths in their verbatim form (<c>\\?\C:\…</c>,
/// <c>\\?\UNC\server\share\…</c>), so that paths over 260 characters work and Windows does not rewrite names (trailing
/// dots and spaces are kept); registry paths split into a predefined root key and a subkey.
/// </summary>
public static class WindowsPaths
{
    private const string Verbatim = @"\\?\";
    private const string VerbatimUnc = @"\\?\UNC\";

    /// <summary>Predefined registry root handles, as winreg.h defines them (sign-extended on 64-bit Windows).</summary>
    private static readonly (string Name, nint Root)[] Hives =
    [
        ("MACHINE", unchecked((int)0x80000002)),
        ("USERS", unchecked((int)0x80000003)),
        ("CLASSES_ROOT", unchecked((int)0x80000000)),
        ("CURRENT_USER", unchecked((int)0x80000001)),
    ];

    /// <summary>
    /// The verbatim form of an absolute file path: '/' becomes '\', "." and ".." are resolved (never above the
    /// drive or share), repeated separators collapse, a drive or share root keeps its trailing '\' (without it,
    /// <c>\\?\C:</c> is the volume, not its root folder). Null for a path that is not absolute.
    /// </summary>
    public static string? ToVerbatim(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var text = path.Replace('/', '\\');
        string prefix;
        string rest;
        int fixedParts;
        if (text.StartsWith(VerbatimUnc, StringComparison.OrdinalIgnoreCase))
        {
            (prefix, rest, fixedParts) = (VerbatimUnc, text[VerbatimUnc.Length..], 2);
        }
        else if (text.StartsWith(Verbatim, StringComparison.Ordinal) || text.StartsWith(@"\\.\", StringComparison.Ordinal))
        {
            (prefix, rest, fixedParts) = (Verbatim, text[4..], 1);
        }
        else if (text.StartsWith(@"\\", StringComparison.Ordinal))
        {
            (prefix, rest, fixedParts) = (VerbatimUnc, text[2..], 2);
        }
        else if (text.Length >= 2 && char.IsAsciiLetter(text[0]) && text[1] == ':' && (text.Length == 2 || text[2] == '\\'))
        {
            (prefix, rest, fixedParts) = (Verbatim, text, 1);
        }
        else
        {
            return null; // relative, or drive-relative ("C:folder"): what it names depends on the process's state
        }

        var parts = new List<string>();
        foreach (var part in rest.Split('\\', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (parts.Count > fixedParts)
                {
                    parts.RemoveAt(parts.Count - 1);
                }

                continue;
            }

            parts.Add(part);
        }

        if (parts.Count < fixedParts)
        {
            return null; // "\\server" alone, "\\?\" alone
        }

        var joined = string.Join('\\', parts);
        return prefix + joined + (parts.Count == fixedParts ? "\\" : string.Empty);
    }

    /// <summary>
    /// The predefined root and subkey of a registry path written <c>MACHINE\SOFTWARE\…</c> (also USERS, CLASSES_ROOT,
    /// CURRENT_USER); false for an unknown hive.
    /// </summary>
    public static bool TrySplitRegistryPath(string name, out nint root, out string subKey)
    {
        ArgumentNullException.ThrowIfNull(name);
        var trimmed = name.Trim('\\');
        var separator = trimmed.IndexOf('\\', StringComparison.Ordinal);
        var hive = separator < 0 ? trimmed : trimmed[..separator];
        subKey = separator < 0 ? string.Empty : trimmed[(separator + 1)..];
        foreach (var (hiveName, handle) in Hives)
        {
            if (string.Equals(hive, hiveName, StringComparison.OrdinalIgnoreCase))
            {
                root = handle;
                return true;
            }
        }

        root = 0;
        return false;
    }
}
