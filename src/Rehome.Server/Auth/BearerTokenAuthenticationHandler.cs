using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rehome.Server.Store;

namespace Rehome.Server.Auth;

/// <summary>
/// Authenticates <c>Authorization: Bearer rht_…</c> against the stored token hashes. It is the default scheme, so it
/// runs on every request, agents' polls included: the store context is made only when there is a bearer token to look up.
/// </summary>
public sealed class BearerTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";

    /// <summary>How stale <c>last_used_at</c> may get: writing it on every request would make each read a write.</summary>
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    private static readonly Task<AuthenticateResult> NoBearerToken = Task.FromResult(AuthenticateResult.NoResult());

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? AuthenticateBearerAsync(header) : NoBearerToken;
    }

    private async Task<AuthenticateResult> AuthenticateBearerAsync(string header)
    {
        var token = header["Bearer ".Length..].Trim();
        if (!token.StartsWith(ApiTokens.Prefix, StringComparison.Ordinal))
        {
            return AuthenticateResult.Fail("The bearer token is not a Rehome API token.");
        }
        var hash = ApiTokens.Hash(token);
        var db = Context.RequestServices.GetRequiredService<RehomeDbContext>();
        var now = time.GetUtcNow();
        var found = await db.ApiTokens
            .Where(t => t.TokenHash == hash)
            .Join(db.Accounts, t => t.AccountId, a => a.Id, (t, a) => new { Token = t, a.UserName, a.Role, a.DisabledAt })
            .FirstOrDefaultAsync(Context.RequestAborted);
        if (found is null || found.Token.RevokedAt is not null || (found.Token.ExpiresAt is { } expires && expires <= now) || found.DisabledAt is not null)
        {
            return AuthenticateResult.Fail("The API token is unknown, revoked or expired, or its account is disabled.");
        }
        if (Roles.Effective(found.Role, found.Token.Scope) is not { } role)
        {
            return AuthenticateResult.Fail("The API token's scope is no longer within its account's role; make a new token.");
        }
        if (found.Token.LastUsedAt is not { } last || now - last > LastUsedResolution)
        {
            await db.ApiTokens.Where(t => t.Id == found.Token.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), Context.RequestAborted);
        }
        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, found.Token.AccountId.ToString()),
                new Claim(ClaimTypes.Name, found.UserName),
                new Claim(ClaimTypes.Role, role.ToString()),
                new Claim("token_id", found.Token.Id.ToString()),
            ],
            SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer realm=\"rehome\"";
        Response.ContentType = "application/problem+json";
        return Response.WriteAsJsonAsync(new
        {
            type = "https://rehome.dev/problems/unauthenticated",
            title = "Authentication required",
            status = 401,
            rule = "Unauthenticated",
            detail = "Send a personal API token as 'Authorization: Bearer <token>'. Create one with POST /api/v1/auth/token or 'rehome login'.",
        }, options: null, contentType: "application/problem+json");
    }
}
