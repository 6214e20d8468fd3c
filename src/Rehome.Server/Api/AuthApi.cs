using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Rehome.Server.Audit;
using Rehome.Server.Auth;
using Rehome.Server.Store;

namespace Rehome.Server.Api;

public sealed record LoginInput(string? UserName, string? Password, string? TokenName, int? ExpiresInDays);

public sealed record TokenCreated(Guid Id, string Name, string Token, DateTimeOffset? ExpiresAt);

public sealed record TokenView(Guid Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

public sealed record CreateTokenInput(string? Name, int? ExpiresInDays);

public sealed record ChangePasswordInput(string? CurrentPassword, string? NewPassword);

public sealed record MeView(Guid Id, string UserName);

/// <summary>/api/v1/auth (sign in for a token, change password) and /api/v1/tokens (personal API tokens).</summary>
public static class AuthApi
{
    public static RouteGroupBuilder MapAuthApi(this RouteGroupBuilder api)
    {
        var auth = api.MapGroup("/auth").WithTags("Authentication");
        // The one endpoint open without a token: it is how a token is obtained, with the password.
        auth.MapPost("/token", LoginAsync).AllowAnonymous().RequireRateLimiting(SignInRateLimit).WithName("CreateTokenWithPassword")
            .WithSummary("Exchanges an administrator's user name and password for a personal API token (shown once).");
        auth.MapGet("/me", (ClaimsPrincipal user) => Results.Ok(new MeView(AccountId(user), user.Identity!.Name!))).WithName("GetMe");
        auth.MapPost("/password", ChangePasswordAsync).WithName("ChangePassword");

        var tokens = api.MapGroup("/tokens").WithTags("Authentication");
        tokens.MapGet("/", async (ClaimsPrincipal user, RehomeDbContext db, CancellationToken ct) =>
        {
            var id = AccountId(user);
            var list = await db.ApiTokens.AsNoTracking().Where(t => t.AccountId == id).OrderBy(t => t.CreatedAt).ToListAsync(ct);
            return Results.Ok(list.Select(t => new TokenView(t.Id, t.Name, t.Prefix, t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt)));
        }).WithName("ListTokens");
        tokens.MapPost("/", async (CreateTokenInput input, ClaimsPrincipal user, RehomeDbContext db, AuditTrail audit, TimeProvider time, CancellationToken ct) =>
        {
            if (string.IsNullOrWhiteSpace(input.Name) || input.Name.Length > 100)
            {
                return Problems.Validation("name", "Required", "A token needs a name of 1 to 100 characters, to recognise it later.");
            }
            if (input.ExpiresInDays is < 1 or > MaxTokenDays)
            {
                return Problems.Validation("expiresInDays", "Range", $"A token lives 1 to {MaxTokenDays} days; leave it out for a token that does not expire.");
            }
            var created = Issue(db, AccountId(user), input.Name.Trim(), input.ExpiresInDays, time);
            audit.Record("token.create", $"token:{created.Id}", created.Name);
            await db.SaveChangesAsync(ct);
            return Results.Created($"/api/v1/tokens/{created.Id}", created);
        }).WithName("CreateToken");
        tokens.MapDelete("/{id:guid}", async (Guid id, ClaimsPrincipal user, RehomeDbContext db, AuditTrail audit, TimeProvider time, CancellationToken ct) =>
        {
            var accountId = AccountId(user);
            var token = await db.ApiTokens.FirstOrDefaultAsync(t => t.Id == id && t.AccountId == accountId, ct);
            if (token is null)
            {
                return Problems.NotFound($"Token {id}");
            }
            token.RevokedAt ??= time.GetUtcNow();
            audit.Record("token.revoke", $"token:{id}", token.Name);
            await db.SaveChangesAsync(ct);
            return Results.NoContent();
        }).WithName("RevokeToken");
        return api;
    }

    public const string SignInRateLimit = "sign-in";

    private const int MaxTokenDays = 3650;

    /// <summary>Checked against when the user name is unknown, so that the answer takes as long as for a known one.</summary>
    private static readonly string DecoyHash = Passwords.Hash(Guid.NewGuid().ToString());

    private static async Task<IResult> LoginAsync(LoginInput input, RehomeDbContext db, TimeProvider time, ILoggerFactory logs, CancellationToken ct)
    {
        if (input.ExpiresInDays is < 1 or > MaxTokenDays)
        {
            return Problems.Validation("expiresInDays", "Range", $"A token lives 1 to {MaxTokenDays} days.");
        }
        var account = string.IsNullOrEmpty(input.UserName)
            ? null
            : await db.Administrators.FirstOrDefaultAsync(a => a.UserName == input.UserName, ct);
        var verified = Passwords.Verify(input.Password ?? "", account?.PasswordHash ?? DecoyHash);
        if (account is null || string.IsNullOrEmpty(input.Password) || !verified)
        {
            // The name is logged only when it is an account's: a password typed into the name field must not reach the log.
            logs.CreateLogger("Rehome.Auth").LogWarning("Failed sign-in for {UserName}", account?.UserName ?? "(unknown user name)");
            return Problems.Rule(StatusCodes.Status401Unauthorized, "Sign-in failed", "InvalidCredentials", "The user name or password is wrong.");
        }
        var name = string.IsNullOrWhiteSpace(input.TokenName) ? $"sign-in {time.GetUtcNow():yyyy-MM-dd HH:mm}" : input.TokenName.Trim();
        var created = Issue(db, account.Id, name, input.ExpiresInDays ?? 30, time);
        db.AuditLog.Add(new AuditEntry { At = time.GetUtcNow(), Actor = account.UserName, Action = "auth.sign-in", Target = $"token:{created.Id}", Details = name });
        await db.SaveChangesAsync(ct);
        return Results.Ok(created);
    }

    private static async Task<IResult> ChangePasswordAsync(
        ChangePasswordInput input, ClaimsPrincipal user, RehomeDbContext db, AuditTrail audit, CancellationToken ct)
    {
        var id = AccountId(user);
        var account = await db.Administrators.FirstAsync(a => a.Id == id, ct);
        if (string.IsNullOrEmpty(input.CurrentPassword) || !Passwords.Verify(input.CurrentPassword, account.PasswordHash))
        {
            return Problems.Validation("currentPassword", "InvalidCredentials", "The current password is wrong.");
        }
        var violations = new Core.Validation.RuleViolations();
        Core.Connections.PasswordRules.Check("newPassword", input.NewPassword ?? "", account.UserName, violations);
        if (violations.Any)
        {
            return Problems.Validation(violations.Items);
        }
        account.PasswordHash = Passwords.Hash(input.NewPassword!);
        audit.Record("auth.change-password", $"administrator:{id}");
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    private static TokenCreated Issue(RehomeDbContext db, Guid accountId, string name, int? expiresInDays, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var (entity, token) = ApiTokens.Issue(accountId, name, now, expiresInDays is > 0 ? now.AddDays(expiresInDays.Value) : null);
        db.ApiTokens.Add(entity);
        return new TokenCreated(entity.Id, name, token, entity.ExpiresAt);
    }

    private static Guid AccountId(ClaimsPrincipal user) => Guid.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!);
}
