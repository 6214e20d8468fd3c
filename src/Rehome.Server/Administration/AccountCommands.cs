using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rehome.Core.Validation;
using Rehome.Server.Api;
using Rehome.Server.Audit;
using Rehome.Server.Auth;
using Rehome.Server.Store;

namespace Rehome.Server.Administration;

/// <summary>
/// Accounts and their credentials: the one password check behind the API's token sign-in and the console's
/// cookie sign-in, the first administrator's setup, administrators' management of accounts, passwords and
/// personal API tokens. Whatever must stop working when access changes (tokens, console sessions) ends here.
/// </summary>
public sealed class AccountCommands(
    RehomeDbContext db, AuditTrail audit, TimeProvider time, ILoggerFactory logs, IOptions<TokenOptions> tokenOptions)
{
    public const int MaxTokenDays = 3650;

    /// <summary>A limit on one request's project list, so that an input cannot make an unbounded query.</summary>
    public const int MaxProjects = 1000;

    /// <summary>Checked against when the user name is unknown, so that the answer takes as long as for a known one.</summary>
    private static readonly string DecoyHash = Passwords.Hash(Guid.NewGuid().ToString());

    /// <summary>
    /// The account whose name (in any case) and password these are, or null: a failure is audited
    /// (<c>auth.sign-in-failed</c>) with the client's address and the user name only when it is an account's, so
    /// that a password typed into the name field reaches neither the audit log nor the log. The entry says the
    /// channel (<c>api</c> or <c>console</c>), the client's address <paramref name="from"/> and the reason.
    /// </summary>
    public async Task<Account?> VerifyPasswordAsync(string? userName, string? password, string channel, System.Net.IPAddress? from, CancellationToken ct)
    {
        // A name with a NUL is no account's (the rules refuse control characters), and PostgreSQL refuses it in a
        // query: looking it up would answer 500 instead of a failed sign-in.
        var account = string.IsNullOrWhiteSpace(userName) || userName.Contains('\0', StringComparison.Ordinal) ? null : await FindByUserNameAsync(userName, ct);
        var verified = Passwords.Verify(password ?? "", account?.PasswordHash ?? DecoyHash);
        var reason = account is null ? "unknown user name"
            : account.PasswordHash is null ? "single sign-on account without a password"
            : string.IsNullOrEmpty(password) || !verified ? "wrong password"
            : account.DisabledAt is not null ? "account disabled"
            : null;
        if (reason is null)
        {
            return account;
        }
        var actor = account?.UserName ?? "(unknown user name)";
        logs.CreateLogger("Rehome.Auth").LogWarning("Failed sign-in for {UserName} from {Address}: {Reason}", actor, from, reason);
        db.AuditLog.Add(new AuditEntry
        {
            At = time.GetUtcNow(),
            Actor = actor,
            Action = "auth.sign-in-failed",
            Target = account is null ? "account:unknown" : $"account:{account.Id}",
            Details = $"{channel} from {from?.ToString() ?? "an unknown address"}: {reason}",
        });
        await db.SaveChangesAsync(ct);
        return null;
    }

    /// <summary>Records a successful sign-in in the audit log (the actor is the account: nobody is signed in yet).</summary>
    public void RecordSignIn(Account account, string target, string details) =>
        db.AuditLog.Add(new AuditEntry { At = time.GetUtcNow(), Actor = account.UserName, Action = "auth.sign-in", Target = target, Details = details });

    public Task<bool> AnyAdministratorAsync(CancellationToken ct) => db.Accounts.AnyAsync(ct);

    /// <summary>Creates the first administrator; refused once one exists.</summary>
    public async Task<Outcome<Account>> CreateFirstAdministratorAsync(string? userName, string? password, CancellationToken ct)
    {
        var violations = new RuleViolations();
        AccountRules.CheckUserName("userName", userName, violations);
        AccountRules.CheckPassword("password", password, userName, violations);
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
        db.AuditLog.Add(new AuditEntry { At = now, Actor = account.UserName, Action = "auth.setup", Target = $"account:{account.Id}" });
        await db.SaveChangesAsync(ct);
        return account;
    }

    /// <summary>
    /// The account's own password change. Everything issued before ends (console sessions, API tokens), except
    /// the token making the call (<paramref name="keepTokenId"/>): whoever knew the old password keeps nothing,
    /// and the CLI that changed it stays signed in.
    /// </summary>
    public async Task<Outcome<bool>> ChangePasswordAsync(Guid accountId, string? currentPassword, string? newPassword, Guid? keepTokenId, CancellationToken ct)
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
        return await SetPasswordAsync(account, newPassword, keepTokenId, "auth.change-password", null, ct);
    }

    public async Task<IReadOnlyList<AccountView>> ListAsync(CancellationToken ct)
    {
        var accounts = await db.Accounts.AsNoTracking().OrderBy(a => a.UserName).ToListAsync(ct);
        var limits = (await db.AccountProjects.AsNoTracking().ToListAsync(ct)).ToLookup(p => p.AccountId, p => p.ProjectId);
        return accounts.Select(a => AccountView.From(a, [.. limits[a.Id]])).ToList();
    }

    public async Task<AccountView?> GetAsync(Guid id, CancellationToken ct) =>
        await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id, ct) is { } account
            ? AccountView.From(account, await ProjectsOfAsync(id, ct))
            : null;

    /// <summary>
    /// Creates an account with a role, limited to <see cref="AccountInput.Projects"/> when given; without a
    /// password it signs in only through single sign-on.
    /// </summary>
    public async Task<Outcome<AccountView>> CreateAsync(AccountInput input, CancellationToken ct)
    {
        var violations = new RuleViolations();
        AccountRules.CheckUserName("userName", input.UserName, violations);
        if (input.Role is null)
        {
            violations.Add("role", "Required", $"The role is required: one of {string.Join(", ", Enum.GetNames<Role>())}.");
        }
        if (input.Password is not null)
        {
            AccountRules.CheckPassword("password", input.Password, input.UserName?.Trim(), violations);
        }
        var projects = await CheckProjectsAsync(input.Role, input.Projects, violations, ct);
        if (violations.Any)
        {
            return Failure.Validation(violations.Items);
        }
        var userName = input.UserName!.Trim();
        if (await FindByUserNameAsync(userName, ct) is not null)
        {
            return UserNameTaken(userName);
        }
        var now = time.GetUtcNow();
        var account = new Account
        {
            Id = Guid.CreateVersion7(now),
            UserName = userName,
            Role = input.Role!.Value,
            PasswordHash = input.Password is null ? null : Passwords.Hash(input.Password),
            CreatedAt = now,
        };
        db.Accounts.Add(account);
        db.AccountProjects.AddRange(projects.Select(p => new AccountProject { AccountId = account.Id, ProjectId = p }));
        audit.Record("account.create", $"account:{account.Id}", $"'{userName}' as {account.Role}{Limits(projects)}{(input.Password is null ? ", single sign-on only" : "")}");
        await db.SaveChangesAsync(ct);
        return AccountView.From(account, projects);
    }

    /// <summary>Changes an account's role and project limits. A role change ends its console sessions (their cookies carry the old role).</summary>
    public async Task<Outcome<AccountView>> UpdateAsync(Guid actorId, Guid id, AccountUpdateInput input, CancellationToken ct)
    {
        var account = await db.Accounts.FirstOrDefaultAsync(a => a.Id == id, ct);
        if (account is null)
        {
            return Failure.NotFound($"Account {id}");
        }
        var violations = new RuleViolations();
        if (input.Role is null)
        {
            violations.Add("role", "Required", $"The role is required: one of {string.Join(", ", Enum.GetNames<Role>())}.");
        }
        var projects = await CheckProjectsAsync(input.Role, input.Projects, violations, ct);
        if (violations.Any)
        {
            return Failure.Validation(violations.Items);
        }
        var role = input.Role!.Value;
        if (account.Role == Role.Administrator && role != Role.Administrator &&
            AccountRules.CheckAccessLoss(actorId, account, AccessLoss.Demote, await OtherEnabledAdministratorsAsync(id, ct)) is { } refused)
        {
            return refused;
        }
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (account.Role != role)
        {
            account.Role = role;
            await EndSessionsAsync(account, ct);
        }
        await db.AccountProjects.Where(p => p.AccountId == id).ExecuteDeleteAsync(ct);
        db.AccountProjects.AddRange(projects.Select(p => new AccountProject { AccountId = id, ProjectId = p }));
        audit.Record("account.update", $"account:{id}", $"'{account.UserName}' as {role}{Limits(projects)}");
        await db.SaveChangesAsync(ct);
        await transaction.CommitRegardlessAsync();
        return AccountView.From(account, projects);
    }

    /// <summary>Disables an account: it signs in no more, and its tokens and console sessions end at once.</summary>
    public async Task<Outcome<AccountView>> DisableAsync(Guid actorId, Guid id, CancellationToken ct)
    {
        var account = await db.Accounts.FirstOrDefaultAsync(a => a.Id == id, ct);
        if (account is null)
        {
            return Failure.NotFound($"Account {id}");
        }
        if (account.DisabledAt is null)
        {
            if (AccountRules.CheckAccessLoss(actorId, account, AccessLoss.Disable, await OtherEnabledAdministratorsAsync(id, ct)) is { } refused)
            {
                return refused;
            }
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            account.DisabledAt = time.GetUtcNow();
            await EndAccessAsync(account, keepTokenId: null, ct);
            audit.Record("account.disable", $"account:{id}", $"'{account.UserName}'");
            await db.SaveChangesAsync(ct);
            await transaction.CommitRegardlessAsync();
        }
        return AccountView.From(account, await ProjectsOfAsync(id, ct));
    }

    /// <summary>Enables a disabled account again; its old tokens stay revoked (it signs in afresh).</summary>
    public async Task<Outcome<AccountView>> EnableAsync(Guid id, CancellationToken ct)
    {
        var account = await db.Accounts.FirstOrDefaultAsync(a => a.Id == id, ct);
        if (account is null)
        {
            return Failure.NotFound($"Account {id}");
        }
        if (account.DisabledAt is not null)
        {
            account.DisabledAt = null;
            audit.Record("account.enable", $"account:{id}", $"'{account.UserName}'");
            await db.SaveChangesAsync(ct);
        }
        return AccountView.From(account, await ProjectsOfAsync(id, ct));
    }

    /// <summary>
    /// An administrator sets a new password for someone who lost theirs: everything issued to the account before
    /// ends (tokens, console sessions), so whoever else held them keeps nothing.
    /// </summary>
    public async Task<Outcome<bool>> ResetPasswordAsync(Guid id, string? newPassword, CancellationToken ct)
    {
        var account = await db.Accounts.FirstOrDefaultAsync(a => a.Id == id, ct);
        if (account is null)
        {
            return Failure.NotFound($"Account {id}");
        }
        return await SetPasswordAsync(account, newPassword, keepTokenId: null, "account.reset-password", $"'{account.UserName}'", ct);
    }

    /// <summary>Deletes an account with its tokens, sessions and project limits; the audit log keeps its name.</summary>
    public async Task<Outcome<bool>> DeleteAsync(Guid actorId, Guid id, CancellationToken ct)
    {
        var account = await db.Accounts.FirstOrDefaultAsync(a => a.Id == id, ct);
        if (account is null)
        {
            return Failure.NotFound($"Account {id}");
        }
        if (AccountRules.CheckAccessLoss(actorId, account, AccessLoss.Delete, await OtherEnabledAdministratorsAsync(id, ct)) is { } refused)
        {
            return refused;
        }
        db.Accounts.Remove(account);
        audit.Record("account.delete", $"account:{id}", $"'{account.UserName}'");
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
    /// and without one the new token carries the caller's role, so a narrow token never makes a wider one. Without
    /// <paramref name="expiresInDays"/> it lives <see cref="TokenOptions.DefaultTokenLifetimeDays"/>; a token that
    /// never expires only when asked for (<paramref name="neverExpires"/>) and allowed by
    /// <see cref="TokenOptions.AllowTokensWithoutExpiry"/>.
    /// </summary>
    public async Task<Outcome<TokenCreated>> CreateTokenAsync(
        Guid accountId, Role callerRole, string? name, int? expiresInDays, bool neverExpires, string? scope, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return Failure.Validation("name", "Required", "A token needs a name of 1 to 100 characters, to recognise it later.");
        }
        if (TokenNameViolations(name) is { Count: > 0 } refused)
        {
            return Failure.Validation(refused);
        }
        if (expiresInDays is < 1 or > MaxTokenDays)
        {
            return Failure.Validation("expiresInDays", "Range", $"A token lives 1 to {MaxTokenDays} days.");
        }
        if (neverExpires && expiresInDays is not null)
        {
            return Failure.Validation("neverExpires", "ExpiryConflict", "Give either expiresInDays or neverExpires, not both.");
        }
        if (neverExpires && !tokenOptions.Value.AllowTokensWithoutExpiry)
        {
            return Failure.Validation("neverExpires", "TokenNeedsExpiry",
                $"Tokens must expire on this server: give expiresInDays (1 to {MaxTokenDays}). An administrator allows tokens without expiry with Rehome:Auth:AllowTokensWithoutExpiry.");
        }
        var account = await db.Accounts.AsNoTracking().FirstAsync(a => a.Id == accountId, ct);
        // The caller's role as the store sees it now: a console page may hold a role that was narrowed since.
        if (Roles.Effective(account.Role, callerRole) is not { } most)
        {
            return Failure.Validation("scope", "ScopeNotCovered", $"Your role is now {account.Role}: sign in again to make tokens.");
        }
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
        var created = Issue(accountId, name.Trim(), neverExpires ? null : expiresInDays ?? tokenOptions.Value.DefaultTokenLifetimeDays, carried);
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

    private Task<Account?> FindByUserNameAsync(string userName, CancellationToken ct)
    {
        // User names are unique in any case: "Admin" signs in as "admin".
        var upper = userName.Trim().ToUpperInvariant();
        return db.Accounts.FirstOrDefaultAsync(a => a.UserName.ToUpper() == upper, ct);
    }

    private Task<int> OtherEnabledAdministratorsAsync(Guid id, CancellationToken ct) =>
        db.Accounts.CountAsync(a => a.Id != id && a.Role == Role.Administrator && a.DisabledAt == null, ct);

    private async Task<List<Guid>> ProjectsOfAsync(Guid id, CancellationToken ct) =>
        await db.AccountProjects.AsNoTracking().Where(p => p.AccountId == id).Select(p => p.ProjectId).ToListAsync(ct);

    /// <summary>The project limits of an input, each of an existing project; an administrator reaches every project.</summary>
    private async Task<List<Guid>> CheckProjectsAsync(Role? role, IReadOnlyList<Guid>? projects, RuleViolations violations, CancellationToken ct)
    {
        var ids = (projects ?? []).Distinct().ToList();
        if (ids.Count == 0)
        {
            return ids;
        }
        if (role == Role.Administrator)
        {
            violations.Add("projects", "AdministratorReachesEveryProject", "An administrator manages every project; limit operators and viewers instead.");
            return ids;
        }
        if (role == Role.Auditor)
        {
            // The audit log is one log: entries are not all about a project, so it cannot be cut to some projects.
            violations.Add("projects", "AuditorReadsTheWholeLog", "An auditor reads the whole audit log; limit operators and viewers instead.");
            return ids;
        }
        if (ids.Count > MaxProjects)
        {
            violations.Add("projects", "MaxLength", $"An account is limited to at most {MaxProjects} projects.");
            return ids;
        }
        var known = await db.Projects.Where(p => ids.Contains(p.Id)).Select(p => p.Id).ToListAsync(ct);
        foreach (var unknown in ids.Except(known))
        {
            violations.Add("projects", "UnknownProject", $"There is no project {unknown}.");
        }
        return ids;
    }

    /// <summary>A new password (checked by the rule of every password); whatever was issued with the old one ends, but <paramref name="keepTokenId"/>.</summary>
    private async Task<Outcome<bool>> SetPasswordAsync(Account account, string? newPassword, Guid? keepTokenId, string action, string? details, CancellationToken ct)
    {
        var violations = new RuleViolations();
        AccountRules.CheckPassword("newPassword", newPassword, account.UserName, violations);
        if (violations.Any)
        {
            return Failure.Validation(violations.Items);
        }
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        account.PasswordHash = Passwords.Hash(newPassword!);
        await EndAccessAsync(account, keepTokenId, ct);
        audit.Record(action, $"account:{account.Id}", details);
        await db.SaveChangesAsync(ct);
        await transaction.CommitRegardlessAsync();
        return true;
    }

    /// <summary>Ends everything issued to the account: its console sessions and its tokens (but <paramref name="keepTokenId"/>).</summary>
    private async Task EndAccessAsync(Account account, Guid? keepTokenId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await db.ApiTokens.Where(t => t.AccountId == account.Id && t.RevokedAt == null && (keepTokenId == null || t.Id != keepTokenId))
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), ct);
        await EndSessionsAsync(account, ct);
    }

    /// <summary>Ends the account's console sessions, and changes its stamp so that no cookie issued before is taken.</summary>
    private async Task EndSessionsAsync(Account account, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        account.SecurityStamp = Account.NewSecurityStamp();
        await db.ConsoleSignIns.Where(s => s.AccountId == account.Id && s.EndedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.EndedAt, now), ct);
    }

    private static string Limits(IReadOnlyCollection<Guid> projects) => projects.Count == 0 ? ", every project" : $", limited to {projects.Count} project(s)";

    private static Failure UserNameTaken(string userName)
    {
        var message = $"An account named '{userName}' exists already (user names are compared in any case).";
        return Failure.Conflict("UserNameTaken", message) with { Errors = [new RuleViolation("userName", "UserNameTaken", message)] };
    }
}
