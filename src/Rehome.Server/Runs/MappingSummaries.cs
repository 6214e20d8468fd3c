using Rehome.Core.Runs;
using Rehome.Server.Store;

namespace Rehome.Server.Runs;

/// <summary>
/// The one owner of a mapping's stored summary: the stage, status and progress its list shows, taken from the job of
/// its latest run that <see cref="MappingSummaryRules"/> puts first. Called inside the transaction that moved the
/// jobs, so the list never shows a state the jobs do not have. A run written as run items writes none when it is
/// accepted: its mappings show it through the mapping_states view (<see cref="CompactJobsSchema"/>) until the run
/// engine writes the same here (<see cref="ShowItemsAsync"/>), or an item becomes rows first (<see cref="MakeLatestAsync"/>
/// and a refresh). From then on a refresh reads the run's jobs, rows or still derived, like any other.
/// </summary>
public sealed class MappingSummaries(StoreCommands store)
{
    private SqlDialect Dialect => store.Dialect;

    /// <summary>Shows the mapping's job that comes first now.</summary>
    public Task RefreshAsync(Guid mappingId, DateTimeOffset now, CancellationToken ct) =>
        store.ExecuteAsync(RefreshSql("id = @mapping"), ct, ("now", Dialect.Time(now)), ("mapping", mappingId));

    /// <summary>
    /// As <see cref="RefreshAsync"/> for every mapping whose row names this run as its latest (a mapping still showing
    /// its run item through the view is not one until its row is written: <see cref="ShowItemsAsync"/> or
    /// <see cref="MakeLatestAsync"/>). They are found through the run's
    /// jobs, rows or derived (a mapping's jobs go only with the mapping, so each such mapping has some), not through an index on
    /// last_run_id, which every new run would have to update for each of its mappings.
    /// </summary>
    public Task RefreshRunAsync(Guid runId, DateTimeOffset now, CancellationToken ct) =>
        store.ExecuteAsync(RefreshSql("id IN (SELECT r.mapping_id FROM all_jobs r WHERE r.run_id = @run) AND last_run_id = @run"), ct,
            ("now", Dialect.Time(now)), ("run", runId));

    /// <summary>As <see cref="RefreshAsync"/> for many mappings, a few hundred a statement.</summary>
    public async Task RefreshManyAsync(IEnumerable<Guid> mappingIds, DateTimeOffset now, CancellationToken ct)
    {
        foreach (var chunk in mappingIds.Chunk(500))
        {
            var (list, parameters) = StoreCommands.InList(chunk);
            await store.ExecuteAsync(RefreshSql($"id IN ({list})"), ct, [("now", Dialect.Time(now)), .. parameters]);
        }
    }

    /// <summary>
    /// Copies a running job's progress to its mapping, if the mapping shows that job and the progress moved. Found by the
    /// mapping's key: every lease renewal comes here, and last_job_id has no index (a walk over every mapping, holding
    /// SQLite's write lock). A renewal whose progress did not move writes nothing (most of them, between steps).
    /// </summary>
    public Task ShowProgressAsync(Guid mappingId, Guid jobId, int itemsDone, int itemsTotal, DateTimeOffset now, CancellationToken ct) =>
        store.ExecuteAsync("""
            UPDATE mappings SET items_done = @done, items_total = @total, updated_at = @now
            WHERE id = @mapping AND last_job_id = @id AND (items_done <> @done OR items_total <> @total)
            """, ct, ("done", itemsDone), ("total", itemsTotal), ("now", Dialect.Time(now)), ("mapping", mappingId), ("id", jobId));

    /// <summary>The job a mapping of a new run shows first (by <see cref="MappingSummaryRules"/>).</summary>
    public sealed record RunStart(Guid MappingId, Guid JobId, JobKind Kind, JobStatus Status);

    /// <summary>
    /// Makes a new run the latest of the mappings whose jobs it wrote as rows (not those written as run items, which
    /// show through the view) and shows the job each one starts with, which the plan already knows: on
    /// PostgreSQL one UPDATE joined with the rows passed as arrays; on SQLite one prepared UPDATE by primary key, run
    /// for each mapping. Both skip the temporary table this used to fill and join (a fifth of the time of the
    /// mapping update itself, measured in bench/Rehome.Bench).
    /// </summary>
    public async Task ShowNewRunAsync(Guid runId, IReadOnlyList<RunStart> rows, DateTimeOffset now, CancellationToken ct)
    {
        if (rows.Count == 0)
        {
            return;
        }
        if (Dialect.IsPostgres)
        {
            await store.ExecuteAsync("""
                UPDATE mappings SET last_run_id = @run, stage = s.kind, status = s.status, last_job_id = s.job_id,
                  items_done = 0, items_total = 0, updated_at = @now
                FROM unnest(@mappings, @jobs, @kinds, @statuses) AS s (mapping_id, job_id, kind, status)
                WHERE mappings.id = s.mapping_id
                """, ct, ("run", runId), ("now", Dialect.Time(now)),
                ("mappings", rows.Select(r => r.MappingId).ToArray()), ("jobs", rows.Select(r => r.JobId).ToArray()),
                ("kinds", rows.Select(r => (int)r.Kind).ToArray()), ("statuses", rows.Select(r => (int)r.Status).ToArray()));
            return;
        }
        await using var command = store.CreateCommand("""
            UPDATE mappings SET last_run_id = @run, stage = @kind, status = @status, last_job_id = @job,
              items_done = 0, items_total = 0, updated_at = @now
            WHERE id = @mapping
            """, [("run", runId), ("now", Dialect.Time(now)), ("kind", 0), ("status", 0), ("job", Guid.Empty), ("mapping", Guid.Empty)]);
        var (kind, status, job, mapping) = (command.Parameters["@kind"], command.Parameters["@status"], command.Parameters["@job"], command.Parameters["@mapping"]);
        command.Prepare();
        foreach (var row in rows)
        {
            kind.Value = (int)row.Kind;
            status.Value = (int)row.Status;
            job.Value = Dialect.Value(row.JobId);
            mapping.Value = Dialect.Value(row.MappingId);
            // Synchronous on purpose: Microsoft.Data.Sqlite's async methods run synchronously anyway and cost more.
            command.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// Run items just turned into rows: each mapping's newest of these runs becomes its latest if it is newer than the
    /// one it shows, as <see cref="ShowNewRunAsync"/> would have made it at the run's start had its jobs been rows.
    /// Until then mapping_states showed the item; the caller then refreshes these mappings, which shows the same job.
    /// </summary>
    public async Task MakeLatestAsync(IReadOnlyList<(Guid MappingId, Guid RunId)> items, CancellationToken ct)
    {
        // Ids compare as the stores keep them (PostgreSQL's uuid, SQLite's big-endian blob): a later run's v7 id is greater.
        // An item still there (its rows rolled back) is not made latest: the mapping goes on showing it through the view.
        const string Newer = "(last_run_id IS NULL OR last_run_id < @run) AND NOT EXISTS (SELECT 1 FROM run_items i WHERE i.run_id = @run AND i.mapping_id = mappings.id)";
        if (Dialect.IsPostgres)
        {
            await store.ExecuteAsync($"""
                UPDATE mappings SET last_run_id = s.run_id
                FROM (SELECT DISTINCT ON (mapping_id) mapping_id, run_id FROM unnest(@mappings, @runs) AS u (mapping_id, run_id)
                      ORDER BY mapping_id, run_id DESC) s
                WHERE mappings.id = s.mapping_id AND {Newer.Replace("@run", "s.run_id", StringComparison.Ordinal)}
                """, ct, ("mappings", items.Select(i => i.MappingId).ToArray()), ("runs", items.Select(i => i.RunId).ToArray()));
            return;
        }
        await using var command = store.CreateCommand($"UPDATE mappings SET last_run_id = @run WHERE id = @mapping AND {Newer}",
            [("run", Guid.Empty), ("mapping", Guid.Empty)]);
        var (run, mapping) = (command.Parameters["@run"], command.Parameters["@mapping"]);
        command.Prepare();
        foreach (var item in items)
        {
            run.Value = Dialect.Value(item.RunId);
            mapping.Value = Dialect.Value(item.MappingId);
            command.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// Writes to the rows of <paramref name="mappingIds"/> (mappings of a run's items) what mapping_states shows for them,
    /// where that is the run and the row shows an older one (<see cref="SummaryCatchUp"/>): one statement, the view's
    /// own rule. On PostgreSQL the rows another transaction holds (a lease claim, a stop, a renewal's progress, another
    /// replica's catch-up) are skipped, never waited for; the caller tries them again. Returns the ids it could lock
    /// (all of them on SQLite) and the rows it wrote. Call it in a transaction that first took the run with
    /// <see cref="HoldRunAsync"/>.
    /// </summary>
    public async Task<(IReadOnlyCollection<Guid> Locked, int Written)> ShowItemsAsync(Guid runId, IReadOnlyList<Guid> mappingIds, CancellationToken ct)
    {
        // The later of the two times: a mapping edited meanwhile keeps its edit's time.
        static string Set(string later) => $"""
            stage = s.stage, status = s.status, last_job_id = s.last_job_id, last_run_id = s.last_run_id,
              items_done = s.items_done, items_total = s.items_total, updated_at = {later}(mappings.updated_at, s.updated_at)
            """;
        const string Shown = "s.id = mappings.id AND s.last_run_id = @run";
        // Checked again on the row as it is when locked: a newer run committed since this statement's view (written as
        // job rows, or a writer that made an item rows) is never overwritten by the older one.
        const string Older = "(mappings.last_run_id IS NULL OR mappings.last_run_id < @run)";
        if (Dialect.IsPostgres)
        {
            var rows = await store.QueryAsync($"""
                WITH locked AS (SELECT id FROM mappings WHERE id = ANY(@mappings) ORDER BY id FOR NO KEY UPDATE SKIP LOCKED),
                shown AS (
                  UPDATE mappings SET {Set("GREATEST")}
                  FROM mapping_states s
                  WHERE mappings.id IN (SELECT id FROM locked) AND {Shown} AND {Older}
                  RETURNING 1)
                SELECT id, (SELECT count(*) FROM shown) FROM locked
                """, r => (Id: Dialect.ReadGuid(r, 0), Written: (int)r.GetInt64(1)), ct, ("run", runId), ("mappings", mappingIds.ToArray()));
            return (rows.Select(r => r.Id).ToList(), rows.Count == 0 ? 0 : rows[0].Written);
        }
        var written = 0;
        foreach (var chunk in mappingIds.Chunk(500))
        {
            var (list, parameters) = StoreCommands.InList(chunk);
            written += await store.ExecuteAsync($"""
                UPDATE mappings SET {Set("max")}
                FROM mapping_states s
                WHERE mappings.id IN ({list}) AND {Shown} AND {Older}
                """, ct, [("run", runId), .. parameters]);
        }
        return ([.. mappingIds], written);
    }

    /// <summary>
    /// PostgreSQL: holds the run against a release until the transaction ends. <see cref="ShowItemsAsync"/> reads its
    /// items' scheduled flag, which a release changes without touching rows that do not show the run yet: a release
    /// committed while it ran would leave them Scheduled. This waits for a release under way, and a release for it.
    /// SQLite has one writer at a time.
    /// </summary>
    public Task HoldRunAsync(Guid runId, CancellationToken ct) => Dialect.IsPostgres
        ? store.ExecuteAsync("SELECT 1 FROM runs WHERE id = @run FOR SHARE", ct, ("run", runId))
        : Task.CompletedTask;

    /// <summary>Records that the mapping's device reached the destination domain.</summary>
    public Task RecordRejoinAsync(Guid mappingId, DateTimeOffset now, CancellationToken ct) =>
        store.ExecuteAsync("UPDATE mappings SET rejoined_at = @now WHERE id = @id", ct, ("now", Dialect.Time(now)), ("id", mappingId));

    /// <summary>The ORDER BY that puts the job the mapping shows first, generated from <see cref="MappingSummaryRules"/>.</summary>
    internal static string ShownFirstOrder(string alias) =>
        $"CASE {alias}.status {string.Join(" ", Enum.GetValues<JobStatus>().Select(s => $"WHEN {(int)s} THEN {MappingSummaryRules.Rank(s)}"))} END, {alias}.kind";

    private static readonly string Order = ShownFirstOrder("j");

    /// <summary>
    /// The mapping's jobs of its last run, rows or derived, each branch filtered by the mapping's columns itself: SQLite
    /// does not push a correlated condition into the all_jobs view, and would read every job for each mapping.
    /// </summary>
    private static string RefreshSql(string where) => $"""
        UPDATE mappings SET (stage, status, last_job_id, items_done, items_total) = (
            SELECT j.kind, j.status, j.id, j.items_done, j.items_total FROM (
                SELECT kind, status, id, items_done, items_total FROM jobs
                WHERE mapping_id = mappings.id AND run_id = mappings.last_run_id
                UNION ALL
                SELECT kind, status, id, items_done, items_total FROM derived_jobs
                WHERE mapping_id = mappings.id AND run_id = mappings.last_run_id) j
            ORDER BY {Order}
            LIMIT 1),
          updated_at = @now
        WHERE {where} AND last_run_id IS NOT NULL
        """;
}
