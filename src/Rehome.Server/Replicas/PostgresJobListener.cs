using Microsoft.Extensions.Options;
using Npgsql;
using Rehome.Server.Gateway;
using Rehome.Server.Store;

namespace Rehome.Server.Replicas;

/// <summary>
/// Listens on one dedicated PostgreSQL connection for the other replicas' job signals and wakes this process's
/// polls. When the connection is lost (PostgreSQL restarted, the backend terminated, the network gone) it
/// connects again with back-off, and then wakes every waiting poll once: what was signalled during the gap is
/// not replayed by PostgreSQL.
/// </summary>
public sealed class PostgresJobListener(
    IOptions<StoreOptions> store, JobSignals signals, AgentRegistry agents, PostgresJobNotifier notifier, ILogger<PostgresJobListener> logger)
    : BackgroundService
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);
    private int connections;
    private TimeSpan retryDelay = FirstDelay;

    /// <summary>The backend process of the listening connection; null while not listening.</summary>
    public int? BackendProcessId { get; private set; }

    /// <summary>How many times the listener has connected and started listening.</summary>
    public int Connections => Volatile.Read(ref connections);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                BackendProcessId = null;
                logger.LogWarning("Listening for other replicas' new jobs stopped ({Reason}); connecting again in {Delay}; meanwhile polls look every recheck",
                    e.Message, retryDelay);
                // Real time, not the server's TimeProvider: reconnecting is about the database, not about business time.
                await Task.Delay(retryDelay, stoppingToken);
                retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, MaxDelay.Ticks));
            }
        }
    }

    private async Task ListenAsync(CancellationToken ct)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(store.Value.ConnectionString)
        {
            // Its own connection, never returned to a pool; the keepalive notices a connection that died silently.
            Pooling = false,
            // Npgsql refuses multiplexing without pooling; the listener holds one plain connection of its own.
            Multiplexing = false,
            KeepAlive = 15,
            ApplicationName = "rehome-listener",
        };
        await using var connection = new NpgsqlConnection(connectionString.ToString());
        await connection.OpenAsync(ct);
        connection.Notification += (_, e) => Received(e.Channel, e.Payload);
        await using (var listen = new NpgsqlCommand($"LISTEN {PostgresJobNotifier.Channel}; LISTEN {PostgresJobNotifier.AgentsChannel}", connection))
        {
            await listen.ExecuteNonQueryAsync(ct);
        }
        BackendProcessId = connection.ProcessID;
        retryDelay = FirstDelay;
        if (Interlocked.Increment(ref connections) > 1)
        {
            logger.LogInformation("Listening for other replicas' new jobs again");
        }
        // Signals sent while this replica was not listening are gone: each waiting poll looks in the store once, and
        // each agent is read again from the store at its next request (a revocation may have been missed).
        // Forgotten first, so that the polls the signals wake find their entries stale and read the agent again.
        agents.ForgetAllHere();
        signals.SignalEverything();
        while (true)
        {
            await connection.WaitAsync(ct);
        }
    }

    private void Received(string channel, string payload)
    {
        var (sender, ids) = PostgresJobNotifier.Parse(payload);
        if (sender == notifier.InstanceId)
        {
            return;
        }
        if (channel == PostgresJobNotifier.AgentsChannel)
        {
            foreach (var agentId in ids)
            {
                agents.ForgetHere(agentId);
            }
        }
        else
        {
            signals.SignalHere(ids);
        }
    }
}
