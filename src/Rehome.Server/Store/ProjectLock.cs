using Microsoft.EntityFrameworkCore.Storage;

namespace Rehome.Server.Store;

/// <summary>
/// A project's lock: a transaction whose first statement writes the project's row (a row lock on PostgreSQL, the
/// database's write lock on SQLite). Run starts, reverts, archives and cleanups take it, so that on one project they
/// happen one after the other, each seeing what the one before wrote. Held briefly: on SQLite every write waits for it.
/// </summary>
public static class ProjectLock
{
    public static Task<IDbContextTransaction> TakeAsync(RehomeDbContext db, StoreCommands store, Guid projectId, CancellationToken ct) =>
        TakeAsync(db, store, [projectId], ct);

    /// <summary>Several projects' locks (a move between two), always taken in the same order, so that two callers never wait for each other.</summary>
    public static async Task<IDbContextTransaction> TakeAsync(RehomeDbContext db, StoreCommands store, IReadOnlyCollection<Guid> projectIds, CancellationToken ct)
    {
        var transaction = await db.Database.BeginTransactionAsync(ct);
        try
        {
            foreach (var projectId in projectIds.Distinct().Order())
            {
                await store.ExecuteAsync("UPDATE projects SET updated_at = updated_at WHERE id = @project", ct, ("project", projectId));
            }
            return transaction;
        }
        catch
        {
            await transaction.DisposeAsync();
            throw;
        }
    }
}
