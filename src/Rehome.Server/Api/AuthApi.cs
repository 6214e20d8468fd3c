using System.Security.Claims;
using Rehome.Server.Administration;

namespace Rehome.Server.Api;

public sealed record LoginInput(string? UserName, string? Password, string? TokenName, int? ExpiresInDays);

public sealed record TokenCreated(Guid Id, string Name, string Token, DateTimeOffset? ExpiresAt);

public sealed record TokenView(Guid Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

/// <summary>A token to create: without <c>ExpiresInDays</c> it lives the server's default (90 days); <c>NeverExpires</c> only where allowed.</summary>
public sealed record CreateTokenInput(string? Name, int? ExpiresInDays, bool? NeverExpires);

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
        auth.MapGet("/me", (ClaimsPrincipal user) => Results.Ok(new MeView(AccountId(user), user.Identity!.Name!))).WithName("GetMe");
        auth.MapPost("/password", async (ChangePasswordInput input, ClaimsPrincipal user, AccountCommands accounts, CancellationToken ct) =>
            (await accounts.ChangePasswordAsync(AccountId(user), input.CurrentPassword, input.NewPassword, TokenId(user), ct)).ToResult(_ => Results.NoContent()))
            .WithName("ChangePassword")
            .WithSummary("Changes your password; your other tokens are revoked and your console sessions end (the token making the call stays).");

        var tokens = api.MapGroup("/tokens").WithTags("Authentication");
        tokens.MapGet("/", async (ClaimsPrincipal user, AccountCommands accounts, CancellationToken ct) =>
            Results.Ok(await accounts.ListTokensAsync(AccountId(user), ct))).WithName("ListTokens");
        tokens.MapPost("/", async (CreateTokenInput input, ClaimsPrincipal user, AccountCommands accounts, CancellationToken ct) =>
            (await accounts.CreateTokenAsync(AccountId(user), input.Name, input.ExpiresInDays, input.NeverExpires ?? false, ct))
                .ToResult(created => Results.Created($"/api/v1/tokens/{created.Id}", created))).WithName("CreateToken");
        tokens.MapDelete("/{id:guid}", async (Guid id, ClaimsPrincipal user, AccountCommands accounts, CancellationToken ct) =>
            (await accounts.RevokeTokenAsync(AccountId(user), id, ct)).ToResult(_ => Results.NoContent())).WithName("RevokeToken");
        return api;
    }

    private static async Task<IResult> LoginAsync(LoginInput input, HttpContext http, AccountCommands accounts, TimeProvider time, CancellationToken ct)
    {
        if (input.ExpiresInDays is < 1 or > AccountCommands.MaxTokenDays)
        {
            return Problems.Validation("expiresInDays", "Range", $"A token lives 1 to {AccountCommands.MaxTokenDays} days.");
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
