using Rehome.Core.Validation;

namespace Rehome.Core.Connections;

/// <summary>
/// The complexity rule for passwords Rehome sets on devices (the break-glass administrator): Windows'
/// "meet complexity requirements" policy, with a longer minimum because the password is generated or typed
/// once and stored by Rehome, never remembered by a person.
/// </summary>
public static class PasswordRules
{
    public const int MinimumLength = 14;

    /// <summary>Adds a violation to <paramref name="violations"/> for each way the password falls short.</summary>
    public static void Check(string field, string password, string? accountName, RuleViolations violations)
    {
        if (password.Length < MinimumLength)
        {
            violations.Add(field, "PasswordComplexity", $"The password must have at least {MinimumLength} characters.");
        }
        var categories = 0;
        categories += password.Any(char.IsUpper) ? 1 : 0;
        categories += password.Any(char.IsLower) ? 1 : 0;
        categories += password.Any(char.IsDigit) ? 1 : 0;
        categories += password.Any(c => !char.IsLetterOrDigit(c)) ? 1 : 0;
        if (categories < 3)
        {
            violations.Add(field, "PasswordComplexity",
                "The password must mix at least three of: upper-case letters, lower-case letters, digits, symbols.");
        }
        if (!string.IsNullOrWhiteSpace(accountName) && accountName.Length >= 3 &&
            password.Contains(accountName, StringComparison.OrdinalIgnoreCase))
        {
            violations.Add(field, "PasswordComplexity", "The password must not contain the account name.");
        }
    }
}
