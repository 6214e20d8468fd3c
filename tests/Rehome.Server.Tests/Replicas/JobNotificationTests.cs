using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Rehome.Core.Runs;
using Rehome.Server.Gateway;
using Rehome.Server.Replicas;
using Rehome.Server.Runs;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Replicas;

/// <summary>
/// The other replicas hear of new startable jobs from the transaction that makes them startable: PostgreSQL delivers
/// the NOTIFY at its commit, so no replica dying between its commit and a later NOTIFY can leave them to their recheck.
/// </summary>
public sealed class JobNotificationTests : IAsyncLifetime
{
    private ServerHost host = null!;

    public async Task InitializeAsync() => host = await ServerHost.StartAsync(StoreProvider.PostgreSql, new()
    {
        ["Rehome:Directories:Mode"] = "Simulated",
        ["Rehome:Gateway:EnrollmentsPerMinute"] = "10000",
    });

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task A_completed_job_is_notified_to_the_other_replicas_by_the_session_that_commits_it()
    {
        using var device = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"), source: new { domainDnsName = "contoso.example" });
        var job = await host.RunAndPollAsync(device, "RejoinDomain", "MigratePermissions");
        await using var listener = await ListenerAsync();

        await using var scope = host.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        // Held open for the scope, so the transition's transaction runs in this session.
        await db.Database.OpenConnectionAsync();
        var session = ((NpgsqlConnection)db.Database.GetDbConnection()).ProcessID;
        Assert.True(await scope.ServiceProvider.GetRequiredService<JobTransitions>().CompleteAsync(job.JobId, device.AgentId, job.LeaseToken,
            new JobCompletion(JobStatus.Finished, new JobProgress(1, 1, 0, 0), null, null), CancellationToken.None));
        var heard = await listener.NextAsync(device.MappingId);

        Assert.Equal(session, heard.PID);
    }

    [Fact]
    public async Task A_rolled_back_transaction_notifies_nobody_and_a_committed_one_wakes_a_listener_on_another_connection()
    {
        await using var listener = await ListenerAsync();
        var (rolledBack, committed) = (Guid.NewGuid(), Guid.NewGuid());

        await using (var scope = host.Scope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
            var store = scope.ServiceProvider.GetRequiredService<StoreCommands>();
            var notifier = scope.ServiceProvider.GetRequiredService<PostgresJobNotifier>();
            await using (var transaction = await db.Database.BeginTransactionAsync())
            {
                await notifier.AnnounceAsync(store, [rolledBack], CancellationToken.None);
                await transaction.RollbackAsync();
            }
            await using (var transaction = await db.Database.BeginTransactionAsync())
            {
                await scope.ServiceProvider.GetRequiredService<JobSignals>().CommitAndSignalAsync(transaction, store, [committed], CancellationToken.None);
            }
        }
        // Notifications arrive in commit order: had the rolled-back one been sent, it would come first.
        var heard = await listener.NextAsync(rolledBack, committed);

        Assert.Contains(committed.ToString("N"), heard.Payload, StringComparison.Ordinal);
        Assert.DoesNotContain(rolledBack.ToString("N"), heard.Payload, StringComparison.Ordinal);
    }

    private async Task<Listener> ListenerAsync()
    {
        var connection = new NpgsqlConnection(host.ConnectionString);
        await connection.OpenAsync();
        await using var listen = new NpgsqlCommand($"LISTEN {PostgresJobNotifier.Channel}", connection);
        await listen.ExecuteNonQueryAsync();
        return new Listener(connection);
    }

    /// <summary>A connection of its own listening on the jobs' channel, as another replica's listener does.</summary>
    private sealed class Listener : IAsyncDisposable
    {
        private readonly NpgsqlConnection connection;
        private readonly Queue<NpgsqlNotificationEventArgs> heard = new();

        public Listener(NpgsqlConnection connection)
        {
            this.connection = connection;
            connection.Notification += (_, e) => heard.Enqueue(e);
        }

        /// <summary>The first notification that names any of <paramref name="mappingIds"/>.</summary>
        public async Task<NpgsqlNotificationEventArgs> NextAsync(params Guid[] mappingIds)
        {
            // A guard against hanging the suite, not a measure of anything: the commit has happened already.
            using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            while (true)
            {
                while (heard.TryDequeue(out var notification))
                {
                    if (mappingIds.Any(id => notification.Payload.Contains(id.ToString("N"), StringComparison.Ordinal)))
                    {
                        return notification;
                    }
                }
                await connection.WaitAsync(guard.Token);
            }
        }

        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }
}
