using System.Security.Claims;
using Rehome.Server.Administration;
using Rehome.Server.Auth;

namespace Rehome.Server.Api;

public sealed record LoginInput(string? UserName, string? Password, string? TokenName, int? ExpiresInDays);

/// <summary>A new token (shown once); <c>Scope</c> is the narrower role it carries, null for its account's role.</summary>
public sealed record TokenCreated(Guid Id, string Name, string Token, DateTimeOffset? ExpiresAt, Role? Scope = null);

public sealed record TokenView(
    Guid Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt, Role? Scope);

/// <summary>
/// A token to create: without <c>ExpiresInDays</c> it lives the server's default (90 days); <c>NeverExpires</c> only where
/// allowed. <c>Scope</c> names a role the caller's covers (Administrator, Operator, Viewer, Auditor); left out, the caller's own.
/// </summary>
public sealed record CreateTokenInput(string? Name, int? ExpiresInDays, bool? NeverExpires = null, string? Scope = null);

public sealed record ChangePasswordInput(string? CurrentPassword, string? NewPassword);

public sealed record MeView(Guid Id, string UserName);

/// <summary>/api/v1/auth (sign in for a token, change password) and /api/v1/tokens (personal API tokens).</summary>
public static class AuthApi
{
    public const string SignInRateLimit = "sign-in";

    public static RouteGroupBuilder MapAuthApi(this RouteGroupBuilder api)
    {
        var auth = api.MapGroup("/auth").WithTags("Authentication");
        // The one endpoint open without a token: it is how a token is obtained, with the password.
        auth.MapPost("/token", LoginAsync).AllowAnonymous().RequireRateLimiting(SignInRateLimit).WithName("CreateTokenWithPassword")
            .WithSummary("Exchanges an account's user name and password for a personal API token (shown once).");
        auth.MapGet("/me", (ClaimsPrincipal user) => Results.Ok(new MeView(AccountId(user), user.Identity!.Name!))).WithName("GetMe").RequireSignedIn();
        auth.MapPost("/password", async (ChangePasswordInput input, ClaimsPrincipal user, AccountCommands accounts, CancellationToken ct) =>
            (await accounts.ChangePasswordAsync(AccountId(user), input.CurrentPassword, input.NewPassword, TokenId(user), ct)).ToResult(_ => Results.NoContent()))
            .WithName("ChangePassword").RequireSignedIn()
            .WithSummary("Changes your password; your other tokens are revoked and your console sessions end (the token making the call stays).");

        var tokens = api.MapGroup("/tokens").WithTags("Authentication");
        tokens.MapGet("/", async (ClaimsPrincipal user, AccountCommands accounts, CancellationToken ct) =>
            Results.Ok(await accounts.ListTokensAsync(AccountId(user), ct))).WithName("ListTokens").RequireSignedIn();
        tokens.MapPost("/", async (CreateTokenInput input, ClaimsPrincipal user, AccountCommands accounts, CancellationToken ct) =>
            (await accounts.CreateTokenAsync(AccountId(user), Roles.Of(user)!.Value, input.Name, input.ExpiresInDays, input.NeverExpires ?? false, input.Scope, ct))
                .ToResult(created => Results.Created($"/api/v1/tokens/{created.Id}", created))).WithName("CreateToken").RequireSignedIn();
        tokens.MapDelete("/{id:guid}", async (Guid id, ClaimsPrincipal user, AccountCommands accounts, CancellationToken ct) =>
            (await accounts.RevokeTokenAsync(AccountId(user), id, ct)).ToResult(_ => Results.NoContent())).WithName("RevokeToken").RequireSignedIn();
        return api;
    }

    private static async Task<IResult> LoginAsync(LoginInput input, HttpContext http, AccountCommands accounts, TimeProvider time, CancellationToken ct)
    {
        if (input.ExpiresInDays is < 1 or > AccountCommands.MaxTokenDays)
        {
            return Problems.Validation("expiresInDays", "Range", $"A token lives 1 to {AccountCommands.MaxTokenDays} days.");
        }
        if (AccountCommands.TokenNameViolations(input.TokenName, "tokenName") is { Count: > 0 } refused)
        {
            return Problems.Validation(refused);
        }
        var account = await accounts.VerifyPasswordAsync(input.UserName, input.Password, "api", http.Connection.RemoteIpAddress, ct);
        if (account is null)
        {
            return Problems.Rule(StatusCodes.Status401Unauthorized, "Sign-in failed", "InvalidCredentials", "The user name or password is wrong.");
        }
        var name = string.IsNullOrWhiteSpace(input.TokenName) ? $"sign-in {time.GetUtcNow():yyyy-MM-dd HH:mm}" : input.TokenName.Trim();
        var created = accounts.Issue(account.Id, name, input.ExpiresInDays ?? 30);
        accounts.RecordSignIn(account, $"token:{created.Id}", name);
        await accounts.SaveAsync(ct);
        return Results.Ok(created);
    }

    public static Guid AccountId(ClaimsPrincipal user) => Guid.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!);

    /// <summary>The token that authenticated the request (none for a console cookie).</summary>
    public static Guid? TokenId(ClaimsPrincipal user) => Guid.TryParse(user.FindFirstValue("token_id"), out var id) ? id : null;
}
