using Rehome.Core.Runs;
using Rehome.Server.Store;

namespace Rehome.Server.Runs;

/// <summary>
/// Turns run items into the job rows they stand for (<see cref="CompactJobsSchema"/>), inside the caller's
/// transaction: every writer of a job that may still be derived calls this first, so that its UPDATE finds the row.
/// All the jobs of an item become rows together, so a job that is a row has its whole mapping's run as rows (its
/// prerequisite and dependents included). A job that was leased, ran or waits for its destination is always a row.
/// The items' mappings, which showed them through <c>mapping_states</c>, must then be written to show the same runs:
/// every caller calls <see cref="MakeLatestAsync"/> after its own writes to the jobs (jobs before mappings, as a lease
/// claim and a stop take theirs, so the mapping rows this adds cannot make the two deadlock on PostgreSQL) and
/// refreshes the mappings it returns.
/// </summary>
public sealed class RunItemStore(StoreCommands store, MappingSummaries summaries)
{
    /// <summary>The (mapping, run) of every item (not a dry run) made rows in this unit of work and not yet shown.</summary>
    private readonly List<(Guid MappingId, Guid RunId)> made = [];

    private SqlDialect Dialect => store.Dialect;

    /// <summary>The mapping's items (of any run). Costs one indexed statement when it has none: the lease claim calls it.</summary>
    public Task<int> MaterialiseMappingAsync(Guid mappingId, CancellationToken ct) =>
        MaterialiseWhereAsync("mapping_id = @mapping", ct, ("mapping", mappingId));

    /// <summary>Every item of the run.</summary>
    public Task<int> MaterialiseRunAsync(Guid runId, CancellationToken ct) =>
        MaterialiseWhereAsync("run_id = @run", ct, ("run", runId));

    /// <summary>
    /// The released items of the polled mappings, for a lease claim: one statement for the batch. On PostgreSQL it
    /// skips items another transaction holds (a stop, a release, another claim): the claim never waits on an item, so
    /// it cannot deadlock with a stop of a large run on the items (both then take jobs before mappings, see
    /// <see cref="MakeLatestAsync"/>), and a mapping skipped is leased at its next poll. A scheduled
    /// item is left alone: its jobs cannot be leased, and rows made from it could miss the release (which updates
    /// items before jobs).
    /// </summary>
    public async Task<int> MaterialiseForLeaseAsync(IEnumerable<Guid> mappingIds, CancellationToken ct)
    {
        var jobs = 0;
        foreach (var chunk in mappingIds.Chunk(500))
        {
            var (list, parameters) = StoreCommands.InList(chunk);
            var where = $"mapping_id IN ({list}) AND scheduled = @no";
            jobs += await MaterialiseWhereAsync(
                Dialect.IsPostgres ? $"id IN (SELECT id FROM run_items WHERE {where} FOR UPDATE SKIP LOCKED)" : where,
                ct, [("no", false), .. parameters]);
        }
        return jobs;
    }

    /// <summary>
    /// Stops the jobs of the items that <paramref name="where"/> selects (all waiting, so all stop now): writes them as
    /// Stopped rows straight from the items, instead of rows that an UPDATE then stops. Returns the jobs stopped.
    /// </summary>
    public Task<int> StopWhereAsync(string where, string code, string message, DateTimeOffset now, CancellationToken ct, params (string Name, object? Value)[] parameters) =>
        MaterialiseWhereAsync(where, ct, new Dictionary<string, string>
        {
            ["status"] = $"{(int)JobStatus.Stopped}",
            ["error_code"] = "@code",
            ["error_message"] = "@message",
            ["finished_at"] = "@now",
            ["updated_at"] = "@now",
        }, [("code", code), ("message", message), ("now", Dialect.Time(now)), .. parameters]);

    /// <summary>The item this job belongs to, if it is still one (its id says which: <see cref="RunItems.ItemOf"/>).</summary>
    public Task<int> MaterialiseJobAsync(Guid jobId, CancellationToken ct) =>
        MaterialiseWhereAsync("id = @item", ct, ("item", RunItems.ItemOf(jobId)));

    /// <summary>
    /// PostgreSQL: one statement that deletes the items and inserts their jobs; a concurrent caller waits on the deleted
    /// rows and then finds none, so a job is never inserted twice. SQLite (one writer at a time): insert, then delete.
    /// The items' (mapping, run) are kept for <see cref="MakeLatestAsync"/>. Returns the number of job rows written.
    /// </summary>
    private Task<int> MaterialiseWhereAsync(string where, CancellationToken ct, params (string Name, object? Value)[] parameters) =>
        MaterialiseWhereAsync(where, ct, null, parameters);

    /// <summary>As above; <c>values</c> are columns written with these SQL values instead of the derived ones (a stop's status and error).</summary>
    private async Task<int> MaterialiseWhereAsync(
        string where, CancellationToken ct, IReadOnlyDictionary<string, string>? values, (string Name, object? Value)[] parameters)
    {
        var names = CompactJobsSchema.MaterialisedColumns.Split(", ").Concat(values?.Keys ?? []).Distinct().ToList();
        var columns = string.Join(", ", names);
        var selected = string.Join(", ", names.Select(c => values is not null && values.TryGetValue(c, out var value) ? value : c));
        int written;
        List<(Guid MappingId, Guid RunId)> shown;
        if (Dialect.IsPostgres)
        {
            // Every item taken, with the jobs written in total (no row when nothing was taken).
            var taken = await store.QueryAsync($"""
                WITH taken AS (DELETE FROM run_items WHERE {where} RETURNING *),
                made AS (
                  INSERT INTO jobs ({columns})
                  SELECT {selected} FROM ({CompactJobsSchema.DerivedSelect("taken", postgres: true)}) d
                  RETURNING 1)
                SELECT t.mapping_id, t.run_id, t.dry_run, (SELECT count(*) FROM made) FROM taken t
                """, r => (Mapping: Dialect.ReadGuid(r, 0), Run: Dialect.ReadGuid(r, 1), DryRun: r.GetBoolean(2), Jobs: r.GetInt64(3)), ct, parameters);
            written = taken.Count == 0 ? 0 : (int)taken[0].Jobs;
            shown = [.. taken.Where(t => !t.DryRun).Select(t => (t.Mapping, t.Run))];
        }
        else
        {
            written = await store.ExecuteAsync($"""
                INSERT INTO jobs ({columns})
                SELECT {selected} FROM ({CompactJobsSchema.DerivedSelect($"(SELECT * FROM run_items WHERE {where})", postgres: false)}) d
                """, ct, parameters);
            // The items taken, as PostgreSQL's DELETE … RETURNING gives them above.
            var taken = written == 0 ? [] : await store.QueryAsync($"DELETE FROM run_items WHERE {where} RETURNING mapping_id, run_id, dry_run",
                r => (Mapping: Dialect.ReadGuid(r, 0), Run: Dialect.ReadGuid(r, 1), DryRun: r.GetBoolean(2)), ct, parameters);
            shown = [.. taken.Where(t => !t.DryRun).Select(t => (t.Mapping, t.Run))];
        }
        made.AddRange(shown);
        return written;
    }

    /// <summary>
    /// Makes each run whose items this unit of work turned into rows its mappings' latest where it is newer
    /// (<see cref="MappingSummaries.MakeLatestAsync"/>) and returns those mappings, which the caller refreshes (it
    /// refreshes the mappings it changed anyway). Call it after the jobs are written, before the commit.
    /// </summary>
    public async Task<IReadOnlyCollection<Guid>> MakeLatestAsync(CancellationToken ct)
    {
        if (made.Count == 0)
        {
            return [];
        }
        await summaries.MakeLatestAsync(made, ct);
        var mappings = made.Select(m => m.MappingId).ToHashSet();
        made.Clear();
        return mappings;
    }

    /// <summary>Forgets the items made rows by a transaction that was rolled back (the guard in MakeLatestAsync would skip them anyway).</summary>
    public void Forget() => made.Clear();
}
