using Microsoft.EntityFrameworkCore;
using Rehome.Server.Store;

namespace Rehome.Server.Replicas;

/// <summary>Whether this replica can serve: the store answers and has every migration this server knows.</summary>
/// <param name="Ready">True when it can.</param>
/// <param name="Rule">Why not, as a stable word: <c>StoreUnreachable</c> or <c>MigrationsPending</c>.</param>
/// <param name="Message">What is wrong and what to do, for the balancer's and the operator's eyes (nothing secret).</param>
public sealed record Readiness(bool Ready, string? Rule, string Message);

/// <summary>Checks the store for <c>/readyz</c> and at start.</summary>
public sealed class StoreReadiness(RehomeDbContext db, ILogger<StoreReadiness> logger)
{
    public async Task<Readiness> CheckAsync(CancellationToken ct)
    {
        List<string> pending;
        try
        {
            pending = [.. await db.Database.GetPendingMigrationsAsync(ct)];
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // Whatever the cause (down, refused, a wrong password), the answer says only that it cannot be reached.
            logger.LogWarning("The store is not reachable: {Reason}", e.Message);
            return new Readiness(false, "StoreUnreachable", "The database is not reachable.");
        }
        if (pending.Count > 0)
        {
            return new Readiness(false, "MigrationsPending",
                $"The database lacks {pending.Count} migration(s) this server needs: {string.Join(", ", pending)}. " +
                "Run 'rehome-server migrate' (or start a server with Rehome:Store:MigrateOnStart=true).");
        }
        return new Readiness(true, null, "Ready.");
    }
}
