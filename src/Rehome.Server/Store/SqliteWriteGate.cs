using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace Rehome.Server.Store;

/// <summary>
/// One writer at a time on a SQLite file, queued in the server instead of in SQLite. A transaction takes SQLite's write
/// lock as it begins (BEGIN IMMEDIATE); a second one waiting for it sleeps in SQLite's busy handler, on a thread, for up
/// to 100 ms a try, and is not woken when the lock comes free. With thousands of agents reporting, 28 of the server's
/// threads slept there while the lock stood idle between them: the store took a few dozen transactions a second, and
/// leases lapsed by the thousand. Here a transaction first waits its turn asynchronously, in order, and begins once the
/// previous one ended: no thread sleeps, and the lock passes on at once. Writes outside a transaction (a single
/// statement) still meet SQLite's own wait, which covers other processes too.
/// </summary>
public static class SqliteWriteGate
{
    /// <summary>How long a transaction waits for its turn before it fails as SQLite's busy timeout would (SQLITE_BUSY).</summary>
    public static TimeSpan Patience { get; set; } = TimeSpan.FromSeconds(60);

    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    /// <summary>The gate of the database a connection string names (one per file, whatever the pool or context).</summary>
    public static SemaphoreSlim For(string connectionString) =>
        Gates.GetOrAdd(Path.GetFullPath(new SqliteConnectionStringBuilder(connectionString).DataSource), _ => new SemaphoreSlim(1, 1));

    internal static async Task EnterAsync(SemaphoreSlim gate, CancellationToken ct)
    {
        if (!await gate.WaitAsync(Patience, ct))
        {
            throw new SqliteException($"database is locked: no turn to write within {Patience.TotalSeconds:0} s", 5);
        }
    }

    internal static void Enter(SemaphoreSlim gate)
    {
        if (!gate.Wait(Patience))
        {
            throw new SqliteException($"database is locked: no turn to write within {Patience.TotalSeconds:0} s", 5);
        }
    }
}

/// <summary>
/// EF Core's SQLite connection, with every transaction it begins (the store's own and SaveChanges') taken through
/// <see cref="SqliteWriteGate"/>. EF Core has no public seam before a transaction begins and after it ends (its
/// interceptors hear no disposal), so this replaces the provider's connection service, an API EF marks internal.
/// </summary>
#pragma warning disable EF1001 // Internal EF Core API: the one place a transaction's beginning and end are both seen.
public sealed class GatedSqliteRelationalConnection(
    RelationalConnectionDependencies dependencies, IRawSqlCommandBuilder rawSqlCommandBuilder, IDiagnosticsLogger<DbLoggerCategory.Infrastructure> logger)
    : Microsoft.EntityFrameworkCore.Sqlite.Storage.Internal.SqliteRelationalConnection(dependencies, rawSqlCommandBuilder, logger)
{
    private SemaphoreSlim? fileGate;

    /// <summary>The file's gate, looked up once per connection (its file does not change).</summary>
    private SemaphoreSlim Gate => fileGate ??= SqliteWriteGate.For(ConnectionString!);

    public override IDbContextTransaction BeginTransaction(IsolationLevel isolationLevel)
    {
        if (CurrentTransaction is not null)
        {
            // EF refuses a second transaction on a context at once; waiting for the turn this context holds would not end.
            return base.BeginTransaction(isolationLevel);
        }
        var gate = Gate;
        SqliteWriteGate.Enter(gate);
        try
        {
            return new GatedTransaction(base.BeginTransaction(isolationLevel), gate);
        }
        catch
        {
            gate.Release();
            throw;
        }
    }

    public override async Task<IDbContextTransaction> BeginTransactionAsync(IsolationLevel isolationLevel, CancellationToken cancellationToken = default)
    {
        if (CurrentTransaction is not null)
        {
            return await base.BeginTransactionAsync(isolationLevel, cancellationToken);
        }
        var gate = Gate;
        await SqliteWriteGate.EnterAsync(gate, cancellationToken);
        try
        {
            return new GatedTransaction(await base.BeginTransactionAsync(isolationLevel, cancellationToken), gate);
        }
        catch
        {
            gate.Release();
            throw;
        }
    }
}
#pragma warning restore EF1001

/// <summary>A transaction that gives the write turn back when it ends: committed, rolled back or disposed, once.</summary>
internal sealed class GatedTransaction(IDbContextTransaction inner, SemaphoreSlim gate) : IDbContextTransaction, IInfrastructure<DbTransaction>
{
    private int released;

    public Guid TransactionId => inner.TransactionId;

    public DbTransaction Instance => inner.GetDbTransaction();

    public void Commit() => End(inner.Commit);

    public Task CommitAsync(CancellationToken cancellationToken = default) => EndAsync(() => inner.CommitAsync(cancellationToken));

    public void Rollback() => End(inner.Rollback);

    public Task RollbackAsync(CancellationToken cancellationToken = default) => EndAsync(() => inner.RollbackAsync(cancellationToken));

    public void CreateSavepoint(string name) => inner.CreateSavepoint(name);

    public Task CreateSavepointAsync(string name, CancellationToken cancellationToken = default) => inner.CreateSavepointAsync(name, cancellationToken);

    public void RollbackToSavepoint(string name) => inner.RollbackToSavepoint(name);

    public Task RollbackToSavepointAsync(string name, CancellationToken cancellationToken = default) => inner.RollbackToSavepointAsync(name, cancellationToken);

    public void ReleaseSavepoint(string name) => inner.ReleaseSavepoint(name);

    public Task ReleaseSavepointAsync(string name, CancellationToken cancellationToken = default) => inner.ReleaseSavepointAsync(name, cancellationToken);

    public bool SupportsSavepoints => inner.SupportsSavepoints;

    public void Dispose() => End(inner.Dispose);

    public async ValueTask DisposeAsync() => await EndAsync(async () => await inner.DisposeAsync());

    /// <summary>
    /// Ends the transaction one way or another and gives the turn back, even when ending it failed: then only once
    /// the transaction is disposed (rolled back), so the next writer does not find SQLite's lock still held.
    /// </summary>
    private void End(Action end)
    {
        try
        {
            end();
        }
        catch
        {
            inner.Dispose();
            throw;
        }
        finally
        {
            Release();
        }
    }

    private async Task EndAsync(Func<Task> end)
    {
        try
        {
            await end();
        }
        catch
        {
            await inner.DisposeAsync();
            throw;
        }
        finally
        {
            Release();
        }
    }

    private void Release()
    {
        if (Interlocked.Exchange(ref released, 1) == 0)
        {
            gate.Release();
        }
    }
}
