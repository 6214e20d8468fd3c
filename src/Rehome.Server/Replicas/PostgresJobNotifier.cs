using System.Text;
using Microsoft.Extensions.Options;
using Npgsql;
using Rehome.Server.Gateway;
using Rehome.Server.Store;

namespace Rehome.Server.Replicas;

/// <summary>
/// Sends this replica's job signals to the others with PostgreSQL <c>pg_notify</c> on <see cref="Channel"/>, in the
/// transaction that makes the jobs startable: PostgreSQL delivers the notifications when it commits (after the
/// jobs are visible) and drops them when it rolls back, so no replica dying between a commit and its wake-up can
/// leave the others to their recheck. One notification carries at most <see cref="IdsPerNotification"/> mapping
/// ids, under PostgreSQL's 8000-byte payload limit.
/// </summary>
public sealed class PostgresJobNotifier(IOptions<StoreOptions> store, ILogger<PostgresJobNotifier> logger) : IJobSignalRelay
{
    public const string Channel = "rehome_jobs";

    /// <summary>Revoked or deleted agents, by id (rare: sent at once, not batched).</summary>
    public const string AgentsChannel = "rehome_agents";

    /// <summary>33 bytes an id ("N" format and a comma) after the 33-byte sender prefix: 6,633 bytes, well under 8,000.</summary>
    public const int IdsPerNotification = 200;

    /// <summary>This process among the replicas: it ignores the notifications it sent itself (its polls were woken already).</summary>
    public Guid InstanceId { get; } = Guid.NewGuid();

    public Task AnnounceAsync(StoreCommands commands, IReadOnlyCollection<Guid> mappingIds, CancellationToken ct) =>
        commands.ExecuteAsync("SELECT pg_notify(@channel, payload) FROM unnest(@payloads) AS payload", ct,
            ("channel", Channel), ("payloads", Payloads(InstanceId, mappingIds).ToArray()));

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
