using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Rehome.Core.Runs;
using Rehome.Server.Store;

namespace Rehome.Server.Runs;

/// <summary>
/// Writes the mapping rows of runs accepted as run items, after their commit. A run of 50,000 mappings is accepted
/// without writing them (their summaries are derived through mapping_states, exact from the commit on), but a list
/// filtered by status, or paged deep, cannot use the table's indexes through the view: 190–470 ms on PostgreSQL at
/// 100,000 mappings against 2–38 ms on the table (bench/Rehome.Bench). The run engine's tick calls this; it writes
/// each run's mappings a chunk a transaction (the view's own values, <see cref="MappingSummaries.ShowItemsAsync"/>),
/// then marks the run (<see cref="Run.MappingsShownAt"/>), after which its project's reads use the table again.
/// Idempotent, so replicas may do it at once; a row another writer holds is tried again a few times, then left to a
/// later tick, which reads only the rows that do not show the run yet.
/// </summary>
public sealed class SummaryCatchUp(RehomeDbContext db, StoreCommands store, MappingSummaries summaries, TimeProvider time, ILogger<SummaryCatchUp> logger)
{
    /// <summary>Mappings a transaction writes: short enough not to hold a lease claim or SQLite's writer for long.</summary>
    public const int ChunkSize = 2_000;

    /// <summary>How many times rows another writer held are tried again before a later tick tries them.</summary>
    private const int HeldRetries = 3;

    /// <summary>
    /// Catches up every run whose mappings do not show it yet, oldest first, for up to <paramref name="budget"/> (the
    /// tick's other steps wait meanwhile; the next tick goes on). Returns the mapping rows written.
    /// </summary>
    public async Task<int> CatchUpAsync(TimeSpan budget, CancellationToken ct)
    {
        var pending = await db.Runs.Where(r => r.MappingsShownAt == null).OrderBy(r => r.CreatedAt).Select(r => r.Id).ToListAsync(ct);
        if (pending.Count == 0)
        {
            return 0;
        }
        var clock = Stopwatch.StartNew();
        var written = 0;
        foreach (var runId in pending)
        {
            if (clock.Elapsed >= budget)
            {
                break;
            }
            written += await CatchUpRunAsync(runId, clock, budget, ct);
        }
        return written;
    }

    private async Task<int> CatchUpRunAsync(Guid runId, Stopwatch clock, TimeSpan budget, CancellationToken ct)
    {
        var started = clock.Elapsed;
        var (written, held) = (0, new List<Guid>());
        for (Guid? after = null; clock.Elapsed < budget;)
        {
            // The run's items (a dry run's never show) whose mapping's row shows an older run, by the (run, mapping) index.
            var chunk = await store.QueryAsync($"""
                SELECT i.mapping_id FROM run_items i JOIN mappings m ON m.id = i.mapping_id
                WHERE i.run_id = @run AND NOT i.dry_run AND (m.last_run_id IS NULL OR m.last_run_id < @run){(after is null ? "" : " AND i.mapping_id > @after")}
                ORDER BY i.mapping_id LIMIT {ChunkSize}
                """, r => store.Dialect.ReadGuid(r, 0), ct, after is null ? [("run", runId)] : [("run", runId), ("after", after)]);
            if (chunk.Count == 0)
            {
                break;
            }
            var (shown, skipped) = await ShowAsync(runId, chunk, ct);
            written += shown;
            held.AddRange(skipped);
            after = chunk[^1];
        }
        for (var retry = 0; retry < HeldRetries && held.Count > 0 && clock.Elapsed < budget; retry++)
        {
            // Held by a lease claim or a stop for a few milliseconds, as a rule.
            await Task.Delay(TimeSpan.FromMilliseconds(50), ct);
            var (shown, skipped) = await ShowAsync(runId, held, ct);
            written += shown;
            held = skipped;
        }
        if (held.Count > 0 || clock.Elapsed >= budget)
        {
            // The next tick goes on from what is left.
            return written;
        }
        await db.Runs.Where(r => r.Id == runId && r.MappingsShownAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.MappingsShownAt, time.GetUtcNow()), ct);
        logger.LogInformation("Run {RunId}: {Written} mapping row(s) written to show it in {Ms:F0} ms", runId, written, (clock.Elapsed - started).TotalMilliseconds);
        return written;
    }

    /// <summary>One transaction: the rows written, and the ids another writer held (PostgreSQL).</summary>
    private async Task<(int Written, List<Guid> Held)> ShowAsync(Guid runId, IReadOnlyList<Guid> mappings, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await summaries.HoldRunAsync(runId, ct);
        var (locked, written) = await summaries.ShowItemsAsync(runId, mappings, ct);
        await transaction.CommitRegardlessAsync();
        var taken = locked.ToHashSet();
        return (written, [.. mappings.Where(m => !taken.Contains(m))]);
    }
}
