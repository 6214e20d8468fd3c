using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;
using Rehome.Server.Gateway;
using Rehome.Server.Store;

namespace Rehome.Server.Replicas;

/// <summary>
/// Sends this replica's job signals to the others with PostgreSQL <c>NOTIFY</c> on <see cref="Channel"/>. Every
/// signal is raised after the commit that made the jobs startable, so a replica that receives it finds them in the
/// store. Signals are gathered and sent in batches (one NOTIFY carries at most <see cref="IdsPerNotification"/>
/// mapping ids, under PostgreSQL's 8000-byte payload limit) on a pooled connection; one that cannot be sent (the
/// database is away) is dropped, and the other replicas' recheck finds its jobs.
/// </summary>
public sealed class PostgresJobNotifier(IOptions<StoreOptions> store, ILogger<PostgresJobNotifier> logger) : BackgroundService, IJobSignalRelay
{
    public const string Channel = "rehome_jobs";

    /// <summary>Revoked or deleted agents, by id (rare: sent at once, not batched).</summary>
    public const string AgentsChannel = "rehome_agents";

    /// <summary>33 bytes an id ("N" format and a comma) after the 33-byte sender prefix: 6,633 bytes, well under 8,000.</summary>
    public const int IdsPerNotification = 200;

    private readonly Channel<Guid> pending = System.Threading.Channels.Channel.CreateUnbounded<Guid>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>This process among the replicas: it ignores the notifications it sent itself (its polls were woken already).</summary>
    public Guid InstanceId { get; } = Guid.NewGuid();

    public void Publish(IReadOnlyCollection<Guid> mappingIds)
    {
        foreach (var id in mappingIds)
        {
            pending.Writer.TryWrite(id);
        }
    }

    public void PublishAgentChanged(Guid agentId) => _ = SendAgentAsync(agentId);

    private async Task SendAgentAsync(Guid agentId)
    {
        try
        {
            await SendAsync(AgentsChannel, [agentId], CancellationToken.None);
        }
        catch (Exception e)
        {
            // The store is away: so is every request that would use the agent on another replica (it reads the store
            // when it starts again, after a restart; a replica that kept running keeps the revocation it had not heard of).
            logger.LogWarning("Could not tell the other replicas that agent {AgentId} was revoked or deleted ({Reason})", agentId, e.Message);
        }
    }

    /// <summary>The payloads that carry <paramref name="mappingIds"/>: the sender, a colon, then comma-separated ids.</summary>
    public static IEnumerable<string> Payloads(Guid sender, IEnumerable<Guid> mappingIds) =>
        mappingIds.Chunk(IdsPerNotification).Select(chunk =>
            new StringBuilder(sender.ToString("N")).Append(':').AppendJoin(',', chunk.Select(id => id.ToString("N"))).ToString());

    /// <summary>The sender and the mapping ids of a payload; unreadable parts (somebody else's NOTIFY on the channel) are skipped.</summary>
    public static (Guid Sender, List<Guid> MappingIds) Parse(string payload)
    {
        var colon = payload.IndexOf(':', StringComparison.Ordinal);
        var sender = colon > 0 && Guid.TryParseExact(payload.AsSpan(0, colon), "N", out var s) ? s : Guid.Empty;
        var ids = new List<Guid>();
        foreach (var part in payload[(colon + 1)..].Split(','))
        {
            if (Guid.TryParseExact(part, "N", out var id))
            {
                ids.Add(id);
            }
        }
        return (sender, ids);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (await pending.Reader.WaitToReadAsync(stoppingToken))
        {
            var batch = new HashSet<Guid>();
            while (batch.Count < 100 * IdsPerNotification && pending.Reader.TryRead(out var id))
            {
                batch.Add(id);
            }
            try
            {
                await SendAsync(Channel, batch, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Could not tell the other replicas about new jobs of {Count} mapping(s) ({Reason}); their recheck will find them",
                    batch.Count, e.Message);
            }
        }
    }

    private async Task SendAsync(string channel, IEnumerable<Guid> mappingIds, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(store.Value.ConnectionString);
        await connection.OpenAsync(ct);
        await using var batch = connection.CreateBatch();
        foreach (var payload in Payloads(InstanceId, mappingIds))
        {
            var command = batch.CreateBatchCommand();
            command.CommandText = "SELECT pg_notify($1, $2)";
            command.Parameters.Add(new NpgsqlParameter { Value = channel });
            command.Parameters.Add(new NpgsqlParameter { Value = payload });
            batch.BatchCommands.Add(command);
        }
        await batch.ExecuteNonQueryAsync(ct);
    }
}
