using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Rehome.Server.Store;

/// <summary>
/// How a unit of work ends: never cancelled by the caller's token. Its statements ran, so it ends as they decided.
/// A commit cancelled half-way by a client that hung up (an agent whose HTTP timeout ran out under load) lost the
/// work the agent would then repeat, and EF Core logged it as a bare "An error occurred using a transaction" at Error
/// (19 such lines in a 3,000-device rehearsal that ended with every job Finished). A real failure still throws, and
/// EF Core still logs it.
/// </summary>
public static class UnitOfWork
{
    public static Task CommitRegardlessAsync(this IDbContextTransaction transaction) => transaction.CommitAsync(CancellationToken.None);

    public static Task RollbackRegardlessAsync(this IDbContextTransaction transaction) => transaction.RollbackAsync(CancellationToken.None);

    /// <summary>Saves in one go (several statements commit in EF Core's own transaction): for what an agent reported, or what a directory did.</summary>
    public static Task<int> SaveChangesRegardlessAsync(this DbContext db) => db.SaveChangesAsync(CancellationToken.None);
}
