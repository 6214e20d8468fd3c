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
    /// A token's effective role: its scope when the account's role covers it, else the account's role (a token
    /// never carries more than its account, even after the account's role was narrowed).
    /// </summary>
    public static Role Narrowest(Role account, Role? scope) => scope is { } s && Covers(account, s) ? s : account;

    public static Role? Of(ClaimsPrincipal user) =>
        Enum.TryParse<Role>(user.FindFirstValue(ClaimTypes.Role), out var role) ? role : null;
}
