namespace Rehome.Server.Auth;

/// <summary>What the provider said about the person signing in, as read from the validated ID token.</summary>
/// <param name="Issuer">The token's issuer: with <paramref name="Subject"/>, the account's stable key.</param>
/// <param name="Subject">Entra ID's <c>oid</c> when present (the same across the tenant's applications), else <c>sub</c>.</param>
/// <param name="SuggestedUserName">preferred_username, email or name: the account's name when it is made.</param>
/// <param name="Groups">The groups claim's values (ids or names).</param>
/// <param name="GroupsOverage">The provider left the groups out because there are too many (Entra ID's <c>_claim_names</c>).</param>
public sealed record SingleSignOnIdentity(string Issuer, string Subject, string? SuggestedUserName, IReadOnlyList<string> Groups, bool GroupsOverage);

/// <summary>Why a single sign-on was refused: a stable rule, shown on the sign-in page by its fixed message.</summary>
public sealed record SingleSignOnRefusal(string Rule, string Message);

/// <summary>The rules of a single sign-on: which role the provider's groups give, and how a new account is named.</summary>
public static class SingleSignOnRules
{
    public const int MaxUserNameLength = 100;

    public static readonly SingleSignOnRefusal NoMatchingGroup = new(
        "NoMatchingGroup",
        "Your account at the identity provider is in none of the groups that give a role in Rehome. Ask an administrator to add you to one.");

    public static readonly SingleSignOnRefusal GroupsOverage = new(
        "GroupsOverage",
        "The identity provider left your groups out of the sign-in because there are too many. An administrator must send only the groups "
        + "assigned to the application (Entra ID: Token configuration → groups claim → \"Groups assigned to the application\").");

    public static readonly SingleSignOnRefusal Disabled = new("AccountDisabled", "Your Rehome account is disabled. Ask an administrator.");

    public static readonly SingleSignOnRefusal MissingSubject = new(
        "MissingSubject", "The identity provider sent no subject identifier, so the sign-in cannot be tied to an account.");

    public static readonly SingleSignOnRefusal ProviderFailed = new(
        "ProviderFailed", "The sign-in with the identity provider did not complete (it was cancelled, expired or not genuine). Try again.");

    private static readonly SingleSignOnRefusal[] All = [NoMatchingGroup, GroupsOverage, Disabled, MissingSubject, ProviderFailed];

    /// <summary>The fixed message of a refusal named in a URL, or null for anything else (never echoes the URL's text).</summary>
    public static string? MessageFor(string? rule) => All.FirstOrDefault(r => r.Rule == rule)?.Message;

    /// <summary>
    /// The highest role whose groups include one of the user's (Administrator, then Operator, Viewer, Auditor), or
    /// why there is none.
    /// </summary>
    public static (Role? Role, SingleSignOnRefusal? Refusal) RoleFor(SingleSignOnIdentity identity, IReadOnlyDictionary<Role, List<string>> roleGroups)
    {
        if (identity.GroupsOverage)
        {
            return (null, GroupsOverage);
        }
        var held = new HashSet<string>(identity.Groups, StringComparer.OrdinalIgnoreCase);
        foreach (var role in Enum.GetValues<Role>())
        {
            if (roleGroups.TryGetValue(role, out var groups) && groups.Any(g => !string.IsNullOrWhiteSpace(g) && held.Contains(g.Trim())))
            {
                return (role, null);
            }
        }
        return (null, NoMatchingGroup);
    }

    /// <summary>
    /// The name a new account would like: the provider's name (or the subject) without control characters, cut to
    /// fit, leaving room for <see cref="UniqueUserName"/>'s number.
    /// </summary>
    public static string BaseUserName(string? suggested, string subject)
    {
        var name = Clean(suggested);
        return Cut(name.Length > 0 ? name : Clean("sso-" + subject), MaxUserNameLength - 4);
    }

    /// <summary>
    /// <paramref name="baseName"/>, or with the first free number (a local account's name is never taken over:
    /// accounts are matched by issuer and subject only).
    /// </summary>
    public static string UniqueUserName(string baseName, IReadOnlySet<string> taken)
    {
        var name = baseName;
        for (var n = 2; taken.Contains(name); n++)
        {
            name = $"{baseName}-{n}";
        }
        return name;
    }

    /// <summary>Keeps what a local user name may hold (letters, digits and . _ - @), so an account made here reads like one.</summary>
    private static string Clean(string? value) => new string((value ?? "").Trim().Where(AccountRules.IsUserNameCharacter).ToArray());

    private static string Cut(string value, int max) => value.Length <= max ? value : value[..max];
}
