using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Store;

/// <summary>
/// SQLite writers queue in the server: a transaction that must wait for another gets a pending task at once (no thread
/// sleeps in SQLite's busy handler) and begins as soon as the other ends, however it ends.
/// </summary>
public sealed class SqliteWriteGateTests
{
    [Fact]
    public async Task A_second_writer_waits_its_turn_without_holding_a_thread_and_begins_when_the_first_ends_however_it_ends()
    {
        await using var host = await ServerHost.StartAsync(StoreProvider.Sqlite, new());
        await using var first = host.Scope();
        await using var second = host.Scope();
        var a = first.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var b = second.ServiceProvider.GetRequiredService<RehomeDbContext>();

        // Disposed without a commit (an exception on the way): the turn passes on all the same.
        var held = await a.Database.BeginTransactionAsync();
        // Without the queue this call would sit in SQLite's busy handler until the lock came free or 60 s passed.
        var waiting = b.Database.BeginTransactionAsync();
        Assert.False(waiting.IsCompleted);
        await held.DisposeAsync();
        var next = await waiting;

        // Committed: the turn passes on to the next writer, here the first context's again.
        var third = a.Database.BeginTransactionAsync();
        Assert.False(third.IsCompleted);
        await b.Database.ExecuteSqlRawAsync("DELETE FROM accounts WHERE 0");
        await next.CommitAsync();
        await using (var last = await third)
        {
            await last.CommitAsync();
        }

        // One queue for the file, whatever the context; nothing left holding it.
        Assert.Same(SqliteWriteGate.For(a.Database.GetConnectionString()!), SqliteWriteGate.For(b.Database.GetConnectionString()!));
        Assert.Equal(1, SqliteWriteGate.For(a.Database.GetConnectionString()!).CurrentCount);
    }

    [Fact]
    public async Task A_save_of_one_statement_waits_its_turn_too_in_every_context_the_pool_hands_out()
    {
        await using var host = await ServerHost.StartAsync(StoreProvider.Sqlite, new());
        // Twice: the second round's contexts come back from the pool, which resets what a context set on itself.
        for (var round = 0; round < 2; round++)
        {
            await using var scope = host.Scope();
            var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
            var gate = SqliteWriteGate.For(db.Database.GetConnectionString()!);
            var now = DateTimeOffset.UtcNow;
            db.Policies.Add(new Core.Policies.MigrationPolicy { Id = Guid.NewGuid(), Name = $"round {round}", Settings = new(), CreatedAt = now, UpdatedAt = now });

            // The turn is taken, SQLite's lock is not: a save that skipped the queue would run (and end) at once.
            await gate.WaitAsync();
            var saving = db.SaveChangesAsync();
            Assert.False(saving.IsCompleted);
            gate.Release();
            Assert.Equal(1, await saving);
            Assert.Equal(1, gate.CurrentCount);
        }
    }

    [Fact]
    public async Task A_directory_answer_with_no_back_off_to_clear_writes_nothing_so_waits_for_no_writer()
    {
        await using var host = await ServerHost.StartAsync(StoreProvider.Sqlite, new());
        await using var writer = host.Scope();
        await using var caller = host.Scope();
        var db = writer.ServiceProvider.GetRequiredService<RehomeDbContext>();

        // Another writer holds SQLite's write lock: an UPDATE, even one that changes no row, would wait for it in the
        // busy handler (and fail after 60 s, since this test releases it only afterwards).
        await using var held = await db.Database.BeginTransactionAsync();
        await db.Database.ExecuteSqlRawAsync("DELETE FROM accounts WHERE 0");
        await caller.ServiceProvider.GetRequiredService<Rehome.Server.Directories.DirectoryRetries>().SucceededAsync(Guid.NewGuid(), CancellationToken.None);
        await held.CommitAsync();
    }
}
