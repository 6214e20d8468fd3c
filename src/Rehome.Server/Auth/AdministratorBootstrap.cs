using Microsoft.EntityFrameworkCore;
using Rehome.Server.Store;

namespace Rehome.Server.Auth;

/// <summary>Options for the first start. Bound from <c>Rehome:Bootstrap</c>.</summary>
public sealed class BootstrapOptions
{
    public const string Section = "Rehome:Bootstrap";

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

/// <summary>Creates the first administrator when the store has none.</summary>
public static class AdministratorBootstrap
{
    public static async Task EnsureAdministratorAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        if (await db.Accounts.AnyAsync(cancellationToken))
        {
            return;
        }
        var options = scope.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<BootstrapOptions>>().Value;
        var generated = string.IsNullOrEmpty(options.AdminPassword);
        if (generated && options.SetupInConsole)
        {
            var setupCode = services.GetRequiredService<FirstRunSetup>().Open();
            PrintOnce("Rehome first start: no administrator yet.",
                "  Open the console's /setup page and create one with this setup code:",
                $"  setup code: {setupCode}");
            return;
        }
        var password = generated ? Passwords.Generate() : options.AdminPassword!;
        db.Accounts.Add(new Account
        {
            Id = Guid.CreateVersion7(),
            UserName = options.AdminUserName,
            PasswordHash = Passwords.Hash(password),
            CreatedAt = scope.ServiceProvider.GetRequiredService<TimeProvider>().GetUtcNow(),
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
