using Microsoft.EntityFrameworkCore;
using Rehome.Core.Runs;
using Rehome.Server.Store;

namespace Rehome.Server.Runs;

/// <summary>
/// Writes the mapping rows of runs accepted as run items, after their commit. A run of 50,000 mappings is accepted
/// without writing them (their summaries are derived through mapping_states, exact from the commit on), but a list
/// filtered by status, or paged deep, cannot use the table's indexes through the view: 190–350 ms on PostgreSQL at
/// 100,000 mappings against 3–13 ms on the table (bench/Rehome.Bench). The run engine's tick calls this; it writes
/// each run's mappings a chunk a transaction (the view's own values, <see cref="MappingSummaries.ShowItemsAsync"/>),
/// then marks the run (<see cref="Run.MappingsShownAt"/>), after which its project's reads use the table again.
/// Idempotent, so replicas may do it at once; a row another writer holds is left to it and tried again next tick.
/// </summary>
public sealed class SummaryCatchUp(RehomeDbContext db, StoreCommands store, MappingSummaries summaries, TimeProvider time, ILogger<SummaryCatchUp> logger)
{
    /// <summary>Mappings a transaction writes: short enough not to hold a lease claim or SQLite's writer for long.</summary>
    public const int ChunkSize = 2_000;

    /// <summary>Catches up every run whose mappings do not show it yet, oldest first. Returns the mapping rows written.</summary>
    public async Task<int> CatchUpAsync(CancellationToken ct)
    {
        var pending = await db.Runs.Where(r => r.MappingsShownAt == null).OrderBy(r => r.CreatedAt).Select(r => r.Id).ToListAsync(ct);
        if (pending.Count == 0)
        {
            return 0;
        }
        // The statements below run on the scope's connection, open until the scope ends.
        await db.Database.OpenConnectionAsync(ct);
        var written = 0;
        foreach (var runId in pending)
        {
            written += await CatchUpRunAsync(runId, ct);
        }
        return written;
    }

    private async Task<int> CatchUpRunAsync(Guid runId, CancellationToken ct)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (written, complete) = (0, true);
        for (Guid? after = null; ;)
        {
            // The run's items by mapping, through their (run, mapping) index; a dry run's never show.
            var chunk = await store.QueryAsync(
                $"SELECT mapping_id FROM run_items WHERE run_id = @run AND NOT dry_run{(after is null ? "" : " AND mapping_id > @after")} ORDER BY mapping_id LIMIT {ChunkSize}",
                r => store.Dialect.ReadGuid(r, 0), ct, after is null ? [("run", runId)] : [("run", runId), ("after", after)]);
            if (chunk.Count == 0)
            {
                break;
            }
            await using (var transaction = await db.Database.BeginTransactionAsync(ct))
            {
                await summaries.HoldRunAsync(runId, ct);
                var (locked, shown) = await summaries.ShowItemsAsync(runId, chunk, ct);
                await transaction.CommitRegardlessAsync();
                written += shown;
                complete &= locked == chunk.Count;
            }
            after = chunk[^1];
        }
        if (!complete)
        {
            // Rows a lease or a stop held: the next tick looks at them again (most will show the run by then).
            return written;
        }
        await db.Runs.Where(r => r.Id == runId && r.MappingsShownAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.MappingsShownAt, time.GetUtcNow()), ct);
        logger.LogInformation("Run {RunId}: {Written} mapping row(s) written to show it in {Ms:F0} ms", runId, written, clock.Elapsed.TotalMilliseconds);
        return written;
    }
}
