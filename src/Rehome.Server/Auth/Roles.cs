using System.Security.Claims;

namespace Rehome.Server.Auth;

/// <summary>How roles reach a request: as the <see cref="ClaimTypes.Role"/> claim of the signed-in principal.</summary>
public static class Roles
{
    /// <summary>The console cookie's copy of the account's security stamp, compared with the store's on use.</summary>
    public const string SecurityStampClaim = "rehome:stamp";

    /// <summary>Whether <paramref name="role"/> may do all that <paramref name="other"/> may (a token's scope must be covered).</summary>
    public static bool Covers(Role role, Role other) => role == other || role == Role.Administrator || (role == Role.Operator && other == Role.Viewer);

    /// <summary>
    /// A token's effective role: its scope when the account's role covers it, the account's role when it has no scope,
    /// and none (the token is refused) when the account's role no longer covers the scope: a token made for the audit
    /// log by an administrator who is now an operator must not become an operator's token.
    /// </summary>
    public static Role? Effective(Role account, Role? scope) => scope switch
    {
        null => account,
        { } s when Covers(account, s) => s,
        _ => null,
    };

    public static Role? Of(ClaimsPrincipal user) =>
        Enum.TryParse<Role>(user.FindFirstValue(ClaimTypes.Role), out var role) ? role : null;
}
