using System.Text.RegularExpressions;

namespace Rehome.Directory.ActiveDirectory;

/// <summary>The rule for names Rehome gives destination computer accounts.</summary>
public static partial class ComputerName
{
    /// <summary>What <see cref="IsValid"/> accepts, in words for error messages.</summary>
    public const string Rule = "1 to 15 letters, digits or hyphens, not only digits";

    /// <summary>
    /// True for a NetBIOS-compatible computer name: 1 to 15 letters, digits or hyphens and not only digits
    /// (stricter than Windows, which also allows a few symbols that DNS does not).
    /// </summary>
    public static bool IsValid(string name) =>
        name is not null && Pattern().IsMatch(name) && !name.All(char.IsAsciiDigit);

    // \z, not $: $ also matches before a final line break, and "PC01\n" is no computer name.
    [GeneratedRegex("^[A-Za-z0-9-]{1,15}\\z")]
    private static partial Regex Pattern();
}
