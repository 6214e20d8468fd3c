using Microsoft.EntityFrameworkCore;
using Rehome.Core.Connections;
using Rehome.Core.Validation;
using Rehome.Server.Api;
using Rehome.Server.Audit;
using Rehome.Server.Auth;
using Rehome.Server.Store;

namespace Rehome.Server.Administration;

/// <summary>
/// Administrators' passwords and personal API tokens: the one password check behind the API's token sign-in
/// and the console's cookie sign-in, the first administrator's setup, and the tokens page.
/// </summary>
public sealed class AccountCommands(RehomeDbContext db, AuditTrail audit, TimeProvider time, ILoggerFactory logs)
{
    public const int MaxTokenDays = 3650;

    /// <summary>Checked against when the user name is unknown, so that the answer takes as long as for a known one.</summary>
    private static readonly string DecoyHash = Passwords.Hash(Guid.NewGuid().ToString());

    /// <summary>The account whose name and password these are, or null (and a warning in the log).</summary>
    public async Task<Account?> VerifyPasswordAsync(string? userName, string? password, CancellationToken ct)
    {
        var account = string.IsNullOrEmpty(userName)
            ? null
            : await db.Accounts.FirstOrDefaultAsync(a => a.UserName == userName, ct);
        var verified = Passwords.Verify(password ?? "", account?.PasswordHash ?? DecoyHash);
        if (account is null || string.IsNullOrEmpty(password) || !verified || account.DisabledAt is not null)
        {
            // The name is logged only when it is an account's: a password typed into the name field must not reach the log.
            logs.CreateLogger("Rehome.Auth").LogWarning("Failed sign-in for {UserName}", account?.UserName ?? "(unknown user name)");
            return null;
        }
        return account;
    }

    /// <summary>Records a successful sign-in in the audit log (the actor is the account: nobody is signed in yet).</summary>
    public void RecordSignIn(Account account, string target, string details) =>
        db.AuditLog.Add(new AuditEntry { At = time.GetUtcNow(), Actor = account.UserName, Action = "auth.sign-in", Target = target, Details = details });

    public Task<bool> AnyAdministratorAsync(CancellationToken ct) => db.Accounts.AnyAsync(ct);

    /// <summary>Creates the first administrator; refused once one exists.</summary>
    public async Task<Outcome<Account>> CreateFirstAdministratorAsync(string? userName, string? password, CancellationToken ct)
    {
        var violations = new RuleViolations();
        if (violations.Require("userName", userName, "The user name"))
        {
            violations.Text("userName", userName, 100, "The user name");
        }
        PasswordRules.Check("password", password ?? "", userName ?? "", violations);
        if (violations.Any)
        {
            return Failure.Validation(violations.Items);
        }
        if (await db.Accounts.AnyAsync(ct))
        {
            return Failure.Conflict("AlreadySetUp", "An administrator already exists; sign in instead.");
        }
        var now = time.GetUtcNow();
        var account = new Account { Id = Guid.CreateVersion7(now), UserName = userName!.Trim(), PasswordHash = Passwords.Hash(password!), CreatedAt = now };
        db.Accounts.Add(account);
        db.AuditLog.Add(new AuditEntry { At = now, Actor = account.UserName, Action = "auth.setup", Target = $"administrator:{account.Id}" });
        await db.SaveChangesAsync(ct);
        return account;
    }

    public async Task<Outcome<bool>> ChangePasswordAsync(Guid accountId, string? currentPassword, string? newPassword, CancellationToken ct)
    {
        var account = await db.Accounts.FirstAsync(a => a.Id == accountId, ct);
        if (account.PasswordHash is null)
        {
            return Failure.Validation("currentPassword", "SingleSignOnAccount", "This account signs in through single sign-on and has no password here.");
        }
        if (string.IsNullOrEmpty(currentPassword) || !Passwords.Verify(currentPassword, account.PasswordHash))
        {
            return Failure.Validation("currentPassword", "InvalidCredentials", "The current password is wrong.");
        }
        var violations = new RuleViolations();
        PasswordRules.Check("newPassword", newPassword ?? "", account.UserName, violations);
        if (violations.Any)
        {
            return Failure.Validation(violations.Items);
        }
        account.PasswordHash = Passwords.Hash(newPassword!);
        audit.Record("auth.change-password", $"administrator:{accountId}");
        await db.SaveChangesAsync(ct);
        return true;
    }

    public async Task<IReadOnlyList<TokenView>> ListTokensAsync(Guid accountId, CancellationToken ct)
    {
        var list = await db.ApiTokens.AsNoTracking().Where(t => t.AccountId == accountId).OrderBy(t => t.CreatedAt).ToListAsync(ct);
        return list.Select(t => new TokenView(t.Id, t.Name, t.Prefix, t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt, t.Scope)).ToList();
    }

    /// <summary>A token's name is shown in lists and the audit log: no control characters.</summary>
    public static IReadOnlyList<RuleViolation> TokenNameViolations(string? name, string field = "name")
    {
        var violations = new RuleViolations();
        violations.Text(field, name, 100, "The token name");
        return violations.Items;
    }

    /// <summary>
    /// A new personal API token; the token itself is in the answer only. <paramref name="callerRole"/> is the role
    /// of whoever asks (a token's own scope): the new token's <paramref name="scope"/> must be a role it covers,
    /// and without one the new token carries the caller's role, so a narrow token never makes a wider one.
    /// </summary>
    public async Task<Outcome<TokenCreated>> CreateTokenAsync(
        Guid accountId, Role callerRole, string? name, int? expiresInDays, string? scope, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 100)
        {
            return Failure.Validation("name", "Required", "A token needs a name of 1 to 100 characters, to recognise it later.");
        }
        if (TokenNameViolations(name) is { Count: > 0 } refused)
        {
            return Failure.Validation(refused);
        }
        if (expiresInDays is < 1 or > MaxTokenDays)
        {
            return Failure.Validation("expiresInDays", "Range", $"A token lives 1 to {MaxTokenDays} days; leave it out for a token that does not expire.");
        }
        var account = await db.Accounts.AsNoTracking().FirstAsync(a => a.Id == accountId, ct);
        // The caller's role as the store sees it now: a console page may hold a role that was narrowed since.
        var most = Roles.Narrowest(account.Role, callerRole);
        Role? carried = most == account.Role ? null : most;
        if (!string.IsNullOrWhiteSpace(scope))
        {
            var asked = Enum.GetValues<Role>().Where(r => string.Equals(r.ToString(), scope.Trim(), StringComparison.OrdinalIgnoreCase)).Select(r => (Role?)r).FirstOrDefault();
            if (asked is not { } role || !Roles.Covers(most, role))
            {
                var allowed = string.Join(", ", Enum.GetValues<Role>().Where(r => Roles.Covers(most, r)));
                return Failure.Validation("scope", "ScopeNotCovered", $"A token's scope is a role that yours ({most}) covers: {allowed}.");
            }
            carried = role == account.Role ? null : role;
        }
        var created = Issue(accountId, name.Trim(), expiresInDays, carried);
        audit.Record("token.create", $"token:{created.Id}", carried is { } narrower ? $"{created.Name} (scope {narrower})" : created.Name);
        await db.SaveChangesAsync(ct);
        return created;
    }

    /// <summary>Adds a token for a password sign-in to the unit of work (saved by the caller with its audit entry).</summary>
    public TokenCreated Issue(Guid accountId, string name, int? expiresInDays, Role? scope = null)
    {
        var now = time.GetUtcNow();
        var (entity, token) = ApiTokens.Issue(accountId, name, now, expiresInDays is > 0 ? now.AddDays(expiresInDays.Value) : null);
        entity.Scope = scope;
        db.ApiTokens.Add(entity);
        return new TokenCreated(entity.Id, name, token, entity.ExpiresAt, scope);
    }

    public async Task<Outcome<bool>> RevokeTokenAsync(Guid accountId, Guid id, CancellationToken ct)
    {
        var token = await db.ApiTokens.FirstOrDefaultAsync(t => t.Id == id && t.AccountId == accountId, ct);
        if (token is null)
        {
            return Failure.NotFound($"Token {id}");
        }
        token.RevokedAt ??= time.GetUtcNow();
        audit.Record("token.revoke", $"token:{id}", token.Name);
        await db.SaveChangesAsync(ct);
        return true;
    }

    public Task SaveAsync(CancellationToken ct) => db.SaveChangesAsync(ct);
}
