using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rehome.Server.Administration;
using Rehome.Server.Audit;
using Rehome.Server.Store;

namespace Rehome.Server.Auth;

/// <summary>
/// Turns a validated single sign-on into an account: found by the provider's issuer and subject, made on the first
/// sign-in, its role set from the provider's groups at every sign-in. Every outcome is audited.
/// </summary>
public sealed class SingleSignOnAccounts(
    RehomeDbContext db, AccountCommands accounts, IOptions<SingleSignOnOptions> options, TimeProvider time, ILogger<SingleSignOnAccounts> log)
{
    public async Task<(Account? Account, SingleSignOnRefusal? Refusal)> SignInAsync(SingleSignOnIdentity identity, CancellationToken ct)
    {
        var account = await db.Accounts.FirstOrDefaultAsync(a => a.ExternalIssuer == identity.Issuer && a.ExternalSubject == identity.Subject, ct);
        var (role, refusal) = SingleSignOnRules.RoleFor(identity, options.Value.RoleGroups);
        if (account?.DisabledAt is not null)
        {
            refusal = SingleSignOnRules.Disabled;
        }
        if (refusal is not null)
        {
            await RefuseAsync(identity, account, refusal, ct);
            return (null, refusal);
        }

        var now = time.GetUtcNow();
        if (account is null)
        {
            account = new Account
            {
                Id = Guid.CreateVersion7(now),
                UserName = await FreeUserNameAsync(identity, ct),
                PasswordHash = null,
                Role = role!.Value,
                ExternalIssuer = identity.Issuer,
                ExternalSubject = identity.Subject,
                CreatedAt = now,
            };
            db.Accounts.Add(account);
            Audit(account.UserName, "account.create", account, $"single sign-on, role {account.Role}");
        }
        else if (account.Role != role)
        {
            // What was issued under the old role (console cookies) must stop working.
            Audit(account.UserName, "account.role", account, $"single sign-on groups: {account.Role} → {role}");
            account.Role = role!.Value;
            account.SecurityStamp = Account.NewSecurityStamp();
        }
        accounts.RecordSignIn(account, Target(account), "single sign-on");
        await db.SaveChangesAsync(ct);
        return (account, null);
    }

    private async Task RefuseAsync(SingleSignOnIdentity identity, Account? account, SingleSignOnRefusal refusal, CancellationToken ct)
    {
        // Nobody is signed in: the entry names the known account, or else the provider's (cleaned) name for the person.
        var actor = account?.UserName ?? SingleSignOnRules.BaseUserName(identity.SuggestedUserName, identity.Subject);
        db.AuditLog.Add(new AuditEntry
        {
            At = time.GetUtcNow(),
            Actor = actor,
            Action = "auth.sign-in-refused",
            Target = account is null ? "single-sign-on" : Target(account),
            Details = $"single sign-on: {refusal.Rule}",
        });
        await db.SaveChangesAsync(ct);
        log.LogWarning("Single sign-on refused for {UserName}: {Rule}", actor, refusal.Rule);
    }

    private async Task<string> FreeUserNameAsync(SingleSignOnIdentity identity, CancellationToken ct)
    {
        var wanted = SingleSignOnRules.BaseUserName(identity.SuggestedUserName, identity.Subject);
        // User names are unique in any case: a provider's "Admin" must not sit beside the local "admin".
        var upper = wanted.ToUpperInvariant();
        var taken = await db.Accounts.Where(a => a.UserName.ToUpper().StartsWith(upper)).Select(a => a.UserName).ToListAsync(ct);
        return SingleSignOnRules.UniqueUserName(wanted, taken.ToHashSet(StringComparer.OrdinalIgnoreCase));
    }

    private void Audit(string actor, string action, Account account, string details) =>
        db.AuditLog.Add(new AuditEntry { At = time.GetUtcNow(), Actor = actor, Action = action, Target = Target(account), Details = details });

    private static string Target(Account account) => $"administrator:{account.Id}";
}
