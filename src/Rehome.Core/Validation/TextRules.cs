using System.Globalization;
using System.Text;

namespace Rehome.Core.Validation;

/// <summary>
/// The one rule for text that people read later (every name the API takes, everything an agent sends): bounded,
/// and free of the characters that rewrite a terminal or a page under the reader's eyes: control characters
/// (NUL, ESC and the rest of C0 and C1), bidirectional overrides and isolates (Trojan Source), and unpaired
/// surrogates (which PostgreSQL cannot store).
/// </summary>
public static class TextRules
{
    public const string ControlCharacterRule = "ControlCharacter";

    /// <summary>Whether <paramref name="c"/> is refused; <paramref name="multiLine"/> text keeps tabs and line breaks.</summary>
    public static bool IsRefused(char c, bool multiLine = false) =>
        (char.IsControl(c) && !(multiLine && c is '\t' or '\n' or '\r')) || IsBidiControl(c);

    /// <summary>
    /// The embeddings, overrides and isolates that reorder what follows them (U+202A–U+202E, U+2066–U+2069),
    /// and the marks that tip it (U+200E, U+200F, U+061C).
    /// </summary>
    public static bool IsBidiControl(char c) => c is (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069') or '\u200E' or '\u200F' or '\u061C';

    /// <summary>The index of the first refused character (an unpaired surrogate included), or -1.</summary>
    public static int IndexOfRefused(string value, bool multiLine = false)
    {
        ArgumentNullException.ThrowIfNull(value);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c) || IsRefused(c, multiLine))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>
    /// Checks one text field: at most <paramref name="maxLength"/> characters and no refused character. The
    /// message names the character by its code point, never by itself.
    /// </summary>
    public static void Text(this RuleViolations violations, string field, string? value, int maxLength, string what, bool multiLine = false)
    {
        ArgumentNullException.ThrowIfNull(violations);
        if (value is null)
        {
            return;
        }
        if (value.Length > maxLength)
        {
            violations.Add(field, "MaxLength", $"{what} is longer than {maxLength:N0} characters.");
            return;
        }
        var at = IndexOfRefused(value, multiLine);
        if (at >= 0)
        {
            violations.Add(field, ControlCharacterRule,
                $"{what} holds {Describe(value[at])} at position {at + 1}; control characters{(multiLine ? " (other than tabs and line breaks)" : "")}, " +
                "bidirectional overrides and unpaired surrogates are refused.");
        }
    }

    /// <summary>
    /// The text with every refused character (tabs and line breaks too, unless <paramref name="multiLine"/>)
    /// replaced by its escape, such as <c>\u001B</c>: what a terminal or a log may show of text that came from outside.
    /// </summary>
    public static string Neutralise(string? value, bool multiLine = false)
    {
        if (string.IsNullOrEmpty(value) || IndexOfRefused(value, multiLine) < 0)
        {
            return value ?? "";
        }
        var safe = new StringBuilder(value.Length + 16);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                safe.Append(c).Append(value[++i]);
            }
            else if (char.IsSurrogate(c) || IsRefused(c, multiLine))
            {
                safe.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
            else
            {
                safe.Append(c);
            }
        }
        return safe.ToString();
    }

    private static string Describe(char c) => char.IsSurrogate(c)
        ? $"an unpaired surrogate (U+{(int)c:X4})"
        : IsBidiControl(c) ? $"a bidirectional control character (U+{(int)c:X4})" : $"a control character (U+{(int)c:X4})";

    /// <summary>
    /// <see cref="Neutralise"/>d text cut to <paramref name="maxLength"/> characters (ending with "…" when cut, never
    /// between the two halves of a surrogate pair): text that passes <see cref="Text"/> whatever it was.
    /// </summary>
    public static string Fit(string? value, int maxLength, bool multiLine = false)
    {
        var safe = Neutralise(value, multiLine);
        if (safe.Length <= maxLength)
        {
            return safe;
        }
        var cut = maxLength - 1;
        if (cut > 0 && char.IsHighSurrogate(safe[cut - 1]))
        {
            cut--;
        }
        return safe[..cut] + "…";
    }
}
