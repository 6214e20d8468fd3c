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
}
