using Microsoft.EntityFrameworkCore;
using Rehome.Core.Validation;
using Rehome.Server.Store;

namespace Rehome.Server.Auth;

/// <summary>Options for the first start. Bound from <c>Rehome:Bootstrap</c>.</summary>
public sealed class BootstrapOptions
{
    public const string Section = "Rehome:Bootstrap";

    [System.ComponentModel.DataAnnotations.Required]
    public string AdminUserName { get; set; } = "admin";

    /// <summary>
    /// The first administrator's password, for unattended installs. When empty a random one is generated and
    /// printed once on the console: there is no fixed default password.
    /// </summary>
    public string? AdminPassword { get; set; }

    /// <summary>
    /// Without <see cref="AdminPassword"/>: create no administrator, and let the first one be set up in the
    /// console's setup page with a one-time setup code printed on the server's console.
    /// </summary>
    public bool SetupInConsole { get; set; }

    /// <summary>
    /// For a server nobody can administer any more (the last administrator's password lost): at start, the account
    /// <see cref="AdminUserName"/> becomes an enabled administrator with <see cref="AdminPassword"/>. Remove it after use.
    /// </summary>
    public bool RecoverAdministrator { get; set; }
}

/// <summary>
/// The console's first-run setup: open while no administrator exists, guarded by a code printed once on the
/// server's console, so that whoever reaches the port first cannot claim the server.
/// </summary>
public sealed class FirstRunSetup
{
    private string? code;

    public bool IsOpen => Volatile.Read(ref code) is not null;

    public string Open() => Volatile.Read(ref code) ?? Interlocked.CompareExchange(ref code, Passwords.Generate(), null) ?? code!;

    public bool Accepts(string? attempt) =>
        Volatile.Read(ref code) is { } expected && attempt is not null &&
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(attempt.Trim()), System.Text.Encoding.UTF8.GetBytes(expected));

    public void Close() => Volatile.Write(ref code, null);
}

/// <summary>
/// Creates the first administrator when the store has none, and gives a locked-out server its administrator
/// back when asked to (<see cref="BootstrapOptions.RecoverAdministrator"/>).
/// </summary>
public static class AdministratorBootstrap
{
    public static async Task EnsureAdministratorAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var options = scope.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<BootstrapOptions>>().Value;
        var recovering = options.RecoverAdministrator;
        if (!recovering && await db.Accounts.AnyAsync(cancellationToken))
        {
            return;
        }
        var generated = string.IsNullOrEmpty(options.AdminPassword);
        if (generated && recovering)
        {
            throw new InvalidOperationException(
                $"{BootstrapOptions.Section}:RecoverAdministrator needs {BootstrapOptions.Section}:AdminPassword (Rehome__Bootstrap__AdminPassword): the administrator's new password.");
        }
        if (generated && options.SetupInConsole)
        {
            var setupCode = services.GetRequiredService<FirstRunSetup>().Open();
            PrintOnce("Rehome first start: no administrator yet.",
                "  Open the console's /setup page and create one with this setup code:",
                $"  setup code: {setupCode}");
            return;
        }
        var password = generated ? Passwords.Generate() : options.AdminPassword!;
        CheckSettings(options.AdminUserName, password);
        var now = scope.ServiceProvider.GetRequiredService<TimeProvider>().GetUtcNow();
        if (recovering)
        {
            await RecoverAsync(db, options.AdminUserName, password, now, cancellationToken);
            return;
        }
        db.Accounts.Add(new Account
        {
            Id = Guid.CreateVersion7(),
            UserName = options.AdminUserName.Trim(),
            PasswordHash = Passwords.Hash(password),
            CreatedAt = now,
        });
        await db.SaveChangesAsync(cancellationToken);
        if (generated)
        {
            PrintOnce("Rehome first start: administrator created.",
                $"  user:     {options.AdminUserName}",
                $"  password: {password}",
                "This password is shown only now. Sign in to the console or with 'rehome login', and change it with 'rehome password'.");
        }
    }

    /// <summary>The configured administrator obeys the rules of every account: refused at start, naming the setting.</summary>
    private static void CheckSettings(string userName, string password)
    {
        var violations = new RuleViolations();
        AccountRules.CheckUserName("AdminUserName", userName, violations);
        AccountRules.CheckPassword("AdminPassword", password, userName.Trim(), violations);
        if (violations.Any)
        {
            throw new InvalidOperationException(string.Join(" ", violations.Items.Select(v =>
                $"{BootstrapOptions.Section}:{v.Field} (Rehome__Bootstrap__{v.Field}) is refused: {v.Message}")));
        }
    }

    /// <summary>
    /// The named account (made if missing) becomes an enabled administrator with the configured password; whatever
    /// was issued to it before ends. Only whoever controls the server's configuration and restarts it can do this.
    /// </summary>
    private static async Task RecoverAsync(RehomeDbContext db, string userName, string password, DateTimeOffset now, CancellationToken ct)
    {
        var name = userName.Trim();
        var upper = name.ToUpperInvariant();
        var account = await db.Accounts.FirstOrDefaultAsync(a => a.UserName.ToUpper() == upper, ct);
        if (account is null)
        {
            account = new Account { Id = Guid.CreateVersion7(now), UserName = name, CreatedAt = now };
            db.Accounts.Add(account);
        }
        account.Role = Role.Administrator;
        account.DisabledAt = null;
        account.PasswordHash = Passwords.Hash(password);
        account.SecurityStamp = Account.NewSecurityStamp();
        await db.ApiTokens.Where(t => t.AccountId == account.Id && t.RevokedAt == null).ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), ct);
        await db.ConsoleSignIns.Where(s => s.AccountId == account.Id && s.EndedAt == null).ExecuteUpdateAsync(s => s.SetProperty(x => x.EndedAt, now), ct);
        db.AuditLog.Add(new Audit.AuditEntry { At = now, Actor = "system", Action = "auth.recover", Target = $"account:{account.Id}", Details = $"'{name}' made an enabled administrator with the configured password" });
        await db.SaveChangesAsync(ct);
        PrintOnce($"Rehome: '{name}' is an enabled administrator again, with the password of {BootstrapOptions.Section}:AdminPassword.",
            $"  Remove {BootstrapOptions.Section}:RecoverAdministrator now: while it is set, every start resets that password.");
    }

    /// <summary>Printed once to the console of the person starting the server, never to the log.</summary>
    private static void PrintOnce(params string[] lines)
    {
        System.Console.WriteLine();
        foreach (var line in lines)
        {
            System.Console.WriteLine("  " + line);
        }
        System.Console.WriteLine();
    }
}
