using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rehome.Core.Runs;
using Rehome.Server.Store;

namespace Rehome.Server.Gateway;

/// <summary>
/// The fallback look for startable jobs that no signal announced (a replica that died between its commit and its
/// NOTIFY): once every <see cref="GatewayOptions.RecheckInterval"/> for the whole server, one indexed query per 1,000
/// mappings whose agents wait here, and a signal for those that have a job waiting to start. Every idle poll used to
/// look on its own every interval: with 10,000 agents, 333 store looks a second for nothing.
/// </summary>
public sealed class PollRecheck(IServiceScopeFactory scopes, SqlDialect dialect, JobSignals signals, IOptions<GatewayOptions> options, ILogger<PollRecheck> logger) : BackgroundService
{
    private Chunk chunk = new(1_000);
    private readonly SemaphoreSlim rechecking = new(1, 1);

    /// <summary>Waiting mappings asked about by one statement (1,000; smaller in tests, to cross its edges with few polls).</summary>
    internal int ChunkSize
    {
        get => chunk.Ids.Capacity;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            chunk = new Chunk(value);
        }
    }

    /// <summary>One statement's mappings, made once: their ids (sent as they are to PostgreSQL) and SQLite's blob of them end to end.</summary>
    private sealed class Chunk(int size)
    {
        public List<Guid> Ids { get; } = new(size);

        public byte[] Blob { get; } = new byte[size * 16];
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // On the wall clock, as the long poll is.
        using var timer = new PeriodicTimer(options.Value.RecheckInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await RecheckAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The store is away: the next interval looks again; signals still wake the polls meanwhile.
                    logger.LogWarning(e, "The gateway's recheck for unannounced jobs failed");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The server stops.
        }
    }

    /// <summary>
    /// Signals the mappings, among those with a poll waiting here, that have a job waiting to start; returns how many.
    /// The waiting mappings are walked in place and asked about <see cref="ChunkSize"/> a statement through a buffer made
    /// once, so a recheck allocates nothing for each waiting agent (it runs for all of them, every interval).
    /// </summary>
    public Task<int> RecheckAsync(CancellationToken ct) =>
        signals.Waiting == 0 ? Task.FromResult(0) : RecheckAsync(signals.WaitingMappings(), ct);

    /// <summary>As <see cref="RecheckAsync(CancellationToken)"/> for these mappings, in this order (tests choose both).</summary>
    internal async Task<int> RecheckAsync(IEnumerable<Guid> waiting, CancellationToken ct)
    {
        await rechecking.WaitAsync(ct);
        try
        {
            var ids = chunk;
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
            var found = 0;
            ids.Ids.Clear();
            foreach (var mappingId in waiting)
            {
                ids.Ids.Add(mappingId);
                if (ids.Ids.Count == ids.Ids.Capacity)
                {
                    found += await SignalStartableAsync(db, ids, ct);
                    ids.Ids.Clear();
                }
            }
            return ids.Ids.Count > 0 ? found + await SignalStartableAsync(db, ids, ct) : found;
        }
        finally
        {
            rechecking.Release();
        }
    }

    /// <summary>
    /// Of these mappings, signals those with a job waiting to start, found by the jobs' (mapping, status) index, or a
    /// released run item (whose first job always waits to start; the index by mapping); returns how many. Without the
    /// items, a mapping whose lease batch failed, or whose item a PostgreSQL claim skipped as locked, would never be
    /// leased: no signal comes for it again. SQLite counts 0 … count − 1 and cuts each 16-byte id out of their blob.
    /// </summary>
    private async Task<int> SignalStartableAsync(RehomeDbContext db, Chunk mappings, CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = db.Database.GetDbConnection().CreateCommand();
            if (dialect.IsPostgres)
            {
                command.CommandText = """
                    SELECT mapping_id FROM jobs WHERE mapping_id = ANY(@ids) AND status = @status
                    UNION SELECT mapping_id FROM run_items WHERE mapping_id = ANY(@ids) AND NOT scheduled
                    """;
                dialect.Add(command, "@ids", mappings.Ids);
            }
            else
            {
                for (var i = 0; i < mappings.Ids.Count; i++)
                {
                    SqlDialect.WriteSqliteId(mappings.Ids[i], mappings.Blob.AsSpan(i * 16, 16));
                }
                command.CommandText = SqliteStartable;
                dialect.Add(command, "@ids", mappings.Blob);
                dialect.Add(command, "@count", mappings.Ids.Count);
            }
            dialect.Add(command, "@status", (int)JobStatus.WaitingToStart);
            var found = 0;
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                signals.SignalHere(dialect.ReadGuid(reader, 0));
                found++;
            }
            return found;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private const string SqliteStartable = $"""
        {SqlDialect.SqliteCounter}
        SELECT j.mapping_id FROM n JOIN jobs j ON j.mapping_id = substr(@ids, n.k * 16 + 1, 16) AND j.status = @status
        UNION SELECT i.mapping_id FROM n JOIN run_items i ON i.mapping_id = substr(@ids, n.k * 16 + 1, 16) AND NOT i.scheduled
        """;
}
