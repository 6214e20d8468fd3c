using Microsoft.Extensions.Options;
using Rehome.Server.Api;
using Rehome.Server.Auth;
using Rehome.Server.Hosting;
using Rehome.Server.Replicas;

namespace Rehome.Server.Store;

/// <summary>The store at a server's start, and the <c>rehome-server migrate</c> command.</summary>
public static class StoreStartup
{
    /// <summary>
    /// Migrates the store (unless <see cref="StoreOptions.MigrateOnStart"/> is off) and creates the first
    /// administrator. A replica that does not migrate and finds the store unreachable or un-migrated starts anyway,
    /// not ready (<c>/readyz</c> says why), so that the balancer sends it nothing rather than it failing requests.
    /// </summary>
    public static async Task PrepareAsync(IServiceProvider services, CancellationToken ct)
    {
        if (services.GetRequiredService<IOptions<StoreOptions>>().Value.MigrateOnStart)
        {
            await services.MigrateStoreAsync(ct);
        }
        else
        {
            await using var scope = services.CreateAsyncScope();
            var readiness = await scope.ServiceProvider.GetRequiredService<StoreReadiness>().CheckAsync(ct);
            if (!readiness.Ready)
            {
                services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(StoreStartup))
                    .LogWarning("Starting not ready: {Reason} The first administrator is made by whichever server or migrate command finds the store ready.",
                        readiness.Message);
                return;
            }
        }
        await EnsureAdministratorAsync(services, ct);
    }

    /// <summary>
    /// <c>rehome-server migrate [settings]</c>: applies every migration (and creates the first administrator), then
    /// exits 0; exits 1 with the reason when it cannot. For deployments that migrate once before rolling replicas.
    /// </summary>
    public static async Task<int> MigrateCommandAsync(string[] args, TextWriter output, TextWriter error)
    {
        try
        {
            var builder = RehomeServer.CreateBuilder(args);
            await using var app = builder.Build();
            await app.Services.MigrateStoreAsync();
            await EnsureAdministratorAsync(app.Services, CancellationToken.None);
            await output.WriteLineAsync("The store is up to date: every migration is applied.");
            return 0;
        }
        catch (Exception e)
        {
            await error.WriteLineAsync($"rehome-server migrate failed: {e.Message}");
            return 1;
        }
    }

    private static async Task EnsureAdministratorAsync(IServiceProvider services, CancellationToken ct)
    {
        try
        {
            await AdministratorBootstrap.EnsureAdministratorAsync(services, ct);
        }
        catch (Exception e) when (UniqueViolationHandler.IsUniqueViolation(e))
        {
            // Another replica, starting at the same moment on an empty store, made the first administrator.
        }
    }
}
