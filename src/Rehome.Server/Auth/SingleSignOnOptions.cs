using System.Net;
using Microsoft.Extensions.Options;

namespace Rehome.Server.Auth;

/// <summary>
/// Sign-in to the console through the organisation's OpenID Connect provider (Microsoft Entra ID, or any standard
/// one). Bound from <c>Rehome:SingleSignOn</c>; off while <see cref="Authority"/> is empty.
/// </summary>
public sealed class SingleSignOnOptions
{
    public const string Section = "Rehome:SingleSignOn";

    /// <summary>The provider's issuer URL, e.g. <c>https://login.microsoftonline.com/{tenant-id}/v2.0</c>. Empty: single sign-on is off.</summary>
    public string? Authority { get; set; }

    public string? ClientId { get; set; }

    /// <summary>The application's client secret at the provider. Never logged, never shown.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>The provider's name on the sign-in page's button ("Sign in with …").</summary>
    public string DisplayName { get; set; } = "single sign-on";

    /// <summary>The ID token claim that lists the user's groups (Entra ID sends the groups' object ids in <c>groups</c>).</summary>
    public string GroupsClaim { get; set; } = "groups";

    /// <summary>
    /// For each role, the groups (ids or names, as the provider sends them) whose members get it. A user in groups of
    /// several roles gets the first of Administrator, Operator, Viewer, Auditor; a user in none is refused.
    /// </summary>
    public Dictionary<Role, List<string>> RoleGroups { get; set; } = [];

    /// <summary>Scopes asked for beside <c>openid</c> and <c>profile</c> (e.g. <c>email</c>).</summary>
    public List<string> Scopes { get; set; } = [];

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority);

    /// <summary>
    /// Whether the provider is reached over plain HTTP on this machine (a provider for tests or development): only
    /// then is its metadata read without HTTPS.
    /// </summary>
    public bool IsLoopbackHttp =>
        Uri.TryCreate(Authority, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp
        && (uri.IsLoopback || (IPAddress.TryParse(uri.Host, out var address) && IPAddress.IsLoopback(address)));
}

/// <summary>Refuses to start with single sign-on half configured, naming every setting that is wrong.</summary>
public sealed class SingleSignOnOptionsValidator : IValidateOptions<SingleSignOnOptions>
{
    public ValidateOptionsResult Validate(string? name, SingleSignOnOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }
        var problems = new List<string>();
        const string at = SingleSignOnOptions.Section;
        if (!Uri.TryCreate(options.Authority, UriKind.Absolute, out var authority)
            || (authority.Scheme != Uri.UriSchemeHttps && !options.IsLoopbackHttp))
        {
            problems.Add($"{at}:Authority must be the provider's https:// issuer URL (plain http only on loopback).");
        }
        if (string.IsNullOrWhiteSpace(options.ClientId))
        {
            problems.Add($"{at}:ClientId is required: the application (client) id registered at the provider.");
        }
        if (string.IsNullOrWhiteSpace(options.ClientSecret))
        {
            problems.Add($"{at}:ClientSecret is required: a client secret of that application.");
        }
        if (string.IsNullOrWhiteSpace(options.GroupsClaim))
        {
            problems.Add($"{at}:GroupsClaim must name the claim that carries the groups (Entra ID: groups).");
        }
        if (options.RoleGroups.Values.SelectMany(g => g).All(string.IsNullOrWhiteSpace))
        {
            problems.Add($"{at}:RoleGroups must give at least one group for a role (e.g. {at}:RoleGroups:Administrator:0=<group id>), or nobody could sign in.");
        }
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
