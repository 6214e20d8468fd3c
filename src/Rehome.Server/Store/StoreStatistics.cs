using System.Data.Common;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;

namespace Rehome.Server.Store;

/// <summary>
/// Renews PostgreSQL's planner statistics of <c>run_items</c> right after a large run is committed, off the request
/// that made it. A run of 50,000 mappings fills the table at once; until autovacuum analyzes it (a minute or more
/// later) the planner takes it for nearly empty and reads the list's page of 100 mappings through mapping_states by
/// hashing the whole project (260 ms at 100,000 mappings, 0.6 ms after; bench/Rehome.Bench). ANALYZE reads a sample
/// of fixed size. Asks that come while one runs are one more ANALYZE; a failure is a warning (autovacuum still comes).
/// SQLite plans without such statistics: nothing is asked there.
/// </summary>
public sealed class StoreStatistics(IServiceScopeFactory scopes, SqlDialect dialect, ILogger<StoreStatistics> logger) : BackgroundService
{
    /// <summary>How many run items a run writes before their table's statistics are renewed (fewer in tests).</summary>
    internal int RenewAfterItems { get; set; } = 5_000;

    private readonly Channel<bool> asked = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    /// <summary>A run committed <paramref name="items"/> run items: renews their statistics soon if they are many.</summary>
    public void RunItemsWritten(int items)
    {
        if (dialect.IsPostgres && items >= RenewAfterItems)
        {
            asked.Writer.TryWrite(true);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var _ in asked.Reader.ReadAllAsync(stoppingToken))
            {
                await AnalyzeAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The server stops.
        }
    }

    private async Task AnalyzeAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        await AnalyzeAsync(scope.ServiceProvider.GetRequiredService<RehomeDbContext>(), "run_items", "the run items after a large run", logger, ct);
    }

    /// <summary>
    /// PostgreSQL's ANALYZE of <paramref name="tables"/> (the code's own names, never input), now. A failure is a warning
    /// naming <paramref name="what"/>, never the caller's error: what asked for it is committed, and autovacuum renews
    /// the statistics later anyway. (A role that does not own the tables gets PostgreSQL's warning and nothing changes.)
    /// </summary>
    internal static async Task AnalyzeAsync(RehomeDbContext db, string tables, string what, ILogger logger, CancellationToken ct)
    {
        var sql = "ANALYZE " + tables;
        try
        {
            await db.Database.ExecuteSqlRawAsync(sql, ct);
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or TimeoutException)
        {
            logger.LogWarning("The statistics of {What} were not renewed ({Reason}); autovacuum renews them later", what, e.GetType().Name);
        }
    }
}
