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
}

/// <summary>Creates the first administrator when the store has none.</summary>
public static class AdministratorBootstrap
{
    public static async Task EnsureAdministratorAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        if (await db.Administrators.AnyAsync(cancellationToken))
        {
            return;
        }
        var options = scope.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<BootstrapOptions>>().Value;
        var generated = string.IsNullOrEmpty(options.AdminPassword);
        var password = generated ? Passwords.Generate() : options.AdminPassword!;
        db.Administrators.Add(new AdministratorAccount
        {
            Id = Guid.CreateVersion7(),
            UserName = options.AdminUserName,
            PasswordHash = Passwords.Hash(password),
            CreatedAt = scope.ServiceProvider.GetRequiredService<TimeProvider>().GetUtcNow(),
        });
        await db.SaveChangesAsync(cancellationToken);
        if (generated)
        {
            // Printed once to the console of the person starting the server, never to the log.
            Console.WriteLine();
            Console.WriteLine("  Rehome first start: administrator created.");
            Console.WriteLine($"    user:     {options.AdminUserName}");
            Console.WriteLine($"    password: {password}");
            Console.WriteLine("  This password is shown only now. Sign in with 'rehome login' and change it with 'rehome password'.");
            Console.WriteLine();
        }
    }
}
