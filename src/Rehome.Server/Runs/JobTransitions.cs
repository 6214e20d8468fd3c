using Microsoft.EntityFrameworkCore;
using Rehome.Core.Agents;
using Rehome.Core.Runs;
using Rehome.Server.Gateway;
using Rehome.Server.Notifications;
using Rehome.Server.Observability;
using Rehome.Server.Store;

namespace Rehome.Server.Runs;

/// <summary>How a lease renewal went, for the agent.</summary>
public enum LeaseRenewal
{
    Renewed,

    /// <summary>Renewed, and an administrator asked the job to stop: the agent stops and completes it as Stopped.</summary>
    StopRequested,

    /// <summary>The lease lapsed or was taken over: the agent must not touch the job any more (HTTP 409).</summary>
    Lost,
}

/// <summary>Progress an agent reports with a renewal; <see cref="Areas"/> replace the job's per-area counts when given.</summary>
public sealed record JobProgress(
    int ItemsDone, int ItemsTotal, int ItemsChanged, int ItemsFailed, string? Step = null, string? Message = null, IReadOnlyList<JobAreaCount>? Areas = null)
{
    /// <summary>The areas as the job's column stores them, or null to keep what it holds.</summary>
    internal string? AreasJson => Areas is { Count: > 0 } areas ? System.Text.Json.JsonSerializer.Serialize(areas, RehomeDbContext.JsonOptions) : null;
}

/// <summary>How an agent ends a job.</summary>
public sealed record JobCompletion(JobStatus Status, JobProgress Progress, string? ErrorCode, string? ErrorMessage);

/// <summary>A poll's claim for its mapping's next job; <paramref name="PreviousPollUnanswered"/>: its agent says its previous poll got no answer.</summary>
public readonly record struct LeaseRequest(Guid MappingId, Guid AgentId, bool PreviousPollUnanswered = false);

/// <summary>
/// The one place that writes job statuses. Every statement moves jobs only from the statuses that
/// <see cref="JobStateMachine"/> allows, so concurrent writers (API, engine tick, agents, other replicas)
/// can race without breaking the rules: the loser's UPDATE simply matches no row. Whatever makes a job startable
/// signals its mapping with its commit (<see cref="JobSignals.CommitAndSignalAsync"/>), which wakes the agent's long poll. Each move refreshes the summaries of
/// the mappings it touched (<see cref="MappingSummaries"/>) in its transaction, and logs one line with the run,
/// job, mapping and agent ids in scope (<see cref="JobTransitionLog"/>).
/// </summary>
public sealed class JobTransitions(
    RehomeDbContext db, StoreCommands store, MappingSummaries summaries, RunItemStore items, TimeProvider time, JobSignals signals, ILogger<JobTransitions> logger,
    RehomeTelemetry telemetry, NotificationOutbox notifications, RenewalsWaiting renewals)
{
    private const int InProgress = (int)JobStatus.InProgress;
    private readonly JobTransitionLog log = new(logger);

    private SqlDialect Dialect => store.Dialect;

    /// <summary>Moves the due scheduled runs' jobs to the status they start in. Returns the number of runs released.</summary>
    public async Task<int> ReleaseDueRunsAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var due = await db.Runs.Where(r => r.ReleasedAt == null && r.StartAt <= now).Select(r => r.Id).ToListAsync(ct);
        foreach (var runId in due)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            // The items first: a writer that turns an item into rows meanwhile (a stop, an offline sweep; a lease claim
            // takes released items only) either commits before this UPDATE, whose rows the jobs UPDATE below then sees,
            // or waits for it and writes rows that are released already. Jobs first would miss the rows it commits
            // between the two statements and leave them Scheduled.
            // Its run items' jobs derive their status from the flag (CompactJobsSchema), by the same rule as the CASE.
            var moved = 0;
            if (await store.ExecuteAsync("UPDATE run_items SET scheduled = @no WHERE run_id = @run AND scheduled = @yes", ct,
                ("no", false), ("yes", true), ("run", runId)) > 0)
            {
                // Counted in jobs, as the rows below: a run's items are all released at once (a stopped item is rows).
                moved = (int)await store.ScalarAsync<long>($"SELECT COALESCE(SUM({ItemJobCount}), 0) FROM run_items WHERE run_id = @run", ct, ("run", runId));
            }
            // The CASE mirrors JobStateMachine.AtStart.
            moved += await store.ExecuteAsync($"""
                UPDATE jobs SET status = CASE
                    WHEN prerequisite_job_id IS NOT NULL THEN {(int)JobStatus.WaitingForPrerequisite}
                    WHEN needs_destination_preparation THEN {(int)JobStatus.WaitingForDestination}
                    ELSE {(int)JobStatus.WaitingToStart} END,
                  updated_at = @now
                WHERE run_id = @run AND status = {(int)JobStatus.Scheduled}
                """, ct, ("now", Dialect.Time(now)), ("run", runId));
            var released = await db.Runs.Where(r => r.Id == runId && r.ReleasedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.ReleasedAt, now), ct);
            if (released == 0)
            {
                // Another replica released it first.
                await transaction.RollbackRegardlessAsync();
                continue;
            }
            await summaries.RefreshRunAsync(runId, now, ct);
            await signals.CommitAndSignalAsync(transaction, store, await StartableMappingsAsync(runId, ct), ct);
            using (log.Run(runId))
            {
                log.RunReleased(moved);
            }
        }
        return due.Count;
    }

    /// <summary>An item's jobs in SQL: one for each kind's bit set in <c>kinds</c>.</summary>
    private static readonly string ItemJobCount = string.Join(" + ", JobKinds.All.Select(k => $"((kinds >> {(int)k}) & 1)"));

    /// <summary>A run's mappings that have a job to start now.</summary>
    private Task<List<Guid>> StartableMappingsAsync(Guid runId, CancellationToken ct) =>
        db.Jobs.Where(j => j.RunId == runId && j.Status == JobStatus.WaitingToStart).Select(j => j.MappingId).Distinct().ToListAsync(ct);

    /// <summary>Stops one job: at once if it is waiting, by asking its agent if it runs. Jobs waiting for it fail.</summary>
    public async Task<StopEffect> StopJobAsync(Guid jobId, string actor, CancellationToken ct)
    {
        var job = await db.FindJobAsync(jobId, ct)
            ?? throw new KeyNotFoundException($"Job {jobId} does not exist.");
        var effect = JobStateMachine.Stop(job.Status);
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        using var scope = log.Job(job.RunId, job.Id, job.MappingId, job.AgentId);
        switch (effect)
        {
            case StopEffect.StopNow:
                await items.MaterialiseJobAsync(jobId, ct);
                var stopped = await store.ExecuteAsync($"""
                    UPDATE jobs SET status = {(int)JobStatus.Stopped}, error_code = @code, error_message = @message,
                      finished_at = @now, updated_at = @now, destination_payload_protected = NULL
                    WHERE id = @id AND status IN ({InList(JobStateMachine.SourcesOf(JobStatus.Stopped).Where(s => s != JobStatus.InProgress))})
                    """, ct, ("code", JobErrorCodes.StoppedByAdministrator), ("message", $"Stopped by {actor}."),
                    ("now", Dialect.Time(now)), ("id", jobId));
                if (stopped == 0)
                {
                    // It moved on meanwhile (an agent leased it, say): ask again from its new status.
                    await transaction.RollbackRegardlessAsync();
                    items.Forget();
                    return await StopJobAsync(jobId, actor, ct);
                }
                await FailDependentsAsync(jobId, JobStatus.Stopped, now, ct);
                break;
            case StopEffect.RequestFromAgent:
                await store.ExecuteAsync(
                    $"UPDATE jobs SET stop_requested = @yes, updated_at = @now WHERE id = @id AND status = {InProgress}",
                    ct, ("yes", true), ("now", Dialect.Time(now)), ("id", jobId));
                break;
            case StopEffect.AlreadyOver:
                await transaction.RollbackRegardlessAsync();
                return effect;
        }
        await items.MakeLatestAsync(ct);
        await summaries.RefreshAsync(job.MappingId, now, ct);
        await transaction.CommitRegardlessAsync();
        if (effect == StopEffect.StopNow)
        {
            log.StoppedNow(actor);
        }
        else
        {
            log.StopRequested(actor);
        }
        return effect;
    }

    /// <summary>Stops every job of a run that is not over. Returns how many stopped now and how many were asked to.</summary>
    public async Task<(int StoppedNow, int StopRequested)> StopRunAsync(Guid runId, string actor, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var (stopped, requested) = await StopWhereAsync("run_id = @run", $"Stopped by {actor} (whole run).", now, ct, ("run", runId));
        // Its items' mappings now show this run (where it is their newest), so the refresh by run finds them.
        await items.MakeLatestAsync(ct);
        await summaries.RefreshRunAsync(runId, now, ct);
        await transaction.CommitRegardlessAsync();
        using (log.Run(runId))
        {
            log.RunStopped(actor, stopped, requested);
        }
        return (stopped, requested);
    }

    /// <summary>
    /// Stops every job not over of the given mappings (a selection of the grid), in one transaction: a few hundred
    /// mappings a statement, so thousands cost a few statements, not one round of stop per job.
    /// </summary>
    public async Task<(int StoppedNow, int StopRequested)> StopMappingsAsync(IReadOnlyCollection<Guid> mappingIds, string actor, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        int stopped = 0, requested = 0;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        foreach (var chunk in mappingIds.Chunk(500))
        {
            var (list, parameters) = StoreCommands.InList(chunk);
            var (chunkStopped, chunkRequested) = await StopWhereAsync($"mapping_id IN ({list})", $"Stopped by {actor} (selection).", now, ct, parameters);
            stopped += chunkStopped;
            requested += chunkRequested;
        }
        await items.MakeLatestAsync(ct);
        await summaries.RefreshManyAsync(mappingIds, now, ct);
        await transaction.CommitRegardlessAsync();
        log.SelectionStopped(actor, mappingIds.Count, stopped, requested);
        return (stopped, requested);
    }

    /// <summary>
    /// Stops the jobs that <paramref name="where"/> selects by <see cref="JobStateMachine.Stop"/>: those that may stop now
    /// stop, running ones are asked to (in this order, so a job leased in between is asked); the jobs of run items are
    /// written as Stopped rows. Inside the caller's transaction.
    /// </summary>
    private async Task<(int StoppedNow, int StopRequested)> StopWhereAsync(
        string where, string message, DateTimeOffset now, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        var stopNow = JobStateMachine.SourcesOf(JobStatus.Stopped).Where(s => JobStateMachine.Stop(s) == StopEffect.StopNow);
        var askAgent = Enum.GetValues<JobStatus>().Where(s => JobStateMachine.Stop(s) == StopEffect.RequestFromAgent);
        // The items' jobs first, written Stopped (all waiting: they stop now). An item a lease claim is making rows of
        // meanwhile is waited for and then gone; the UPDATEs below, each a new snapshot, find its rows.
        var stopped = await items.StopWhereAsync(where, JobErrorCodes.StoppedByAdministrator, message, now, ct, parameters);
        stopped += await store.ExecuteAsync($"""
            UPDATE jobs SET status = {(int)JobStatus.Stopped}, error_code = @code, error_message = @message,
              finished_at = @now, updated_at = @now, destination_payload_protected = NULL
            WHERE {where} AND status IN ({InList(stopNow)})
            """, ct, [("code", JobErrorCodes.StoppedByAdministrator), ("message", message), ("now", Dialect.Time(now)), .. parameters]);
        var requested = await store.ExecuteAsync(
            $"UPDATE jobs SET stop_requested = @yes, updated_at = @now WHERE {where} AND status IN ({InList(askAgent)})",
            ct, [("yes", true), ("now", Dialect.Time(now)), .. parameters]);
        return (stopped, requested);
    }

    /// <summary>
    /// Hands the mapping's next startable job to an agent: one UPDATE that stamps a fresh lease, so two agents
    /// (or two replicas) can never both get it. Rejoin comes first, then the other kinds in their order.
    /// </summary>
    public async Task<Job?> LeaseNextAsync(Guid mappingId, Guid agentId, TimeSpan duration, CancellationToken ct) =>
        (await LeaseNextManyAsync([new LeaseRequest(mappingId, agentId)], duration, ct)).GetValueOrDefault(mappingId);

    /// <summary>
    /// Leases the next startable job of many mappings in one transaction (the gateway gathers the polls that woke
    /// together): the same conditional UPDATE per mapping, one summary refresh, one commit. Returns the leased
    /// jobs by mapping.
    /// A job already leased to the polling agent comes first, sent again: an agent polls only with no job in hand (it
    /// resumes its journal's jobs before it polls), so the answer that leased it never arrived (written to a connection
    /// the agent had already dropped). Left alone, that lease would lapse and count an attempt the device never made;
    /// if the device did begin the job, it resumes it from its journal. It goes under a new token (a give-back of the
    /// lost answer's lease then matches nothing), with the same attempt. The first resend extends the lease to a whole
    /// lease from now: it comes one poll timeout after the lost answer, often just before the lease runs out, and the
    /// device needs time to make its first report. Later resends keep the expiry, so a device that keeps failing before
    /// its first report still sees the lease lapse and the attempts counted. The token says which: a resent lease's
    /// token is a version 7 Guid, a fresh lease's a version 4 (<see cref="Guid.NewGuid"/>); tokens are opaque to agents.
    /// A poll whose agent says its previous poll got no answer (<see cref="LeaseRequest.PreviousPollUnanswered"/>) extends
    /// the lease each time, up to <see cref="UnansweredLeasesAtMost"/> leases from the job's first start: its answers are
    /// being lost on the way, and the device is alive and polling. In a
    /// 10,000-device rehearsal whose devices answered late, 270 of 274 lapsed leases were lost answers sent again.
    /// </summary>
    public async Task<Dictionary<Guid, Job>> LeaseNextManyAsync(IReadOnlyList<LeaseRequest> requests, TimeSpan duration, CancellationToken ct)
    {
        using var observed = telemetry.StartLeaseBatch(requests.Count);
        var leased = new Dictionary<Guid, Guid>();
        var resent = new HashSet<Guid>();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // The lease's time counts from here, not before the wait for SQLite's writer (seconds, under a busy fleet),
        // which the device would otherwise lose of its lease before it hears of it.
        var now = time.GetUtcNow();
        await using var held = store.CreateCommand($"""
            SELECT id, lease_token, started_at FROM jobs WHERE mapping_id = @mapping AND status = {InProgress} AND lease_owner = @agent AND lease_expires_at > @now
            ORDER BY kind, created_at LIMIT 1 {Dialect.SkipLocked}
            """, [("agent", Guid.Empty), ("now", Dialect.Time(now)), ("mapping", Guid.Empty)]);
        await using var sendAgain = store.CreateCommand($"""
            UPDATE jobs SET lease_token = @token, updated_at = @now,
              lease_expires_at = CASE WHEN lease_expires_at < @extended THEN @extended ELSE lease_expires_at END
            WHERE id = @id AND lease_token = @held AND status = {InProgress}
            """, [("token", Guid.Empty), ("now", Dialect.Time(now)), ("extended", Dialect.Time(now)), ("id", Guid.Empty), ("held", Guid.Empty)]);
        await using var lease = store.CreateCommand($"""
            UPDATE jobs SET status = {InProgress}, lease_owner = @agent, agent_id = @agent, lease_token = @token, lease_expires_at = @expires,
              agent_version = (SELECT agent_version FROM agents WHERE id = @agent),
              attempts = attempts + 1, started_at = COALESCE(started_at, @now), updated_at = @now
            WHERE id = (SELECT id FROM jobs WHERE mapping_id = @mapping AND status = {(int)JobStatus.WaitingToStart}
                        ORDER BY kind, created_at LIMIT 1 {Dialect.SkipLocked})
              AND status = {(int)JobStatus.WaitingToStart}
            RETURNING id
            """, [("agent", Guid.Empty), ("token", Guid.Empty), ("expires", Dialect.Time(now + duration)), ("now", Dialect.Time(now)), ("mapping", Guid.Empty)]);
        // The mappings' next jobs may still be derived from run items: the claims below need them as rows.
        await items.MaterialiseForLeaseAsync(requests.Select(r => r.MappingId).Distinct(), ct);
        foreach (var (mappingId, agentId, unanswered) in requests.DistinctBy(r => r.MappingId))
        {
            if (await SendAgainAsync(held, sendAgain, mappingId, agentId, unanswered, now + duration, now, ct) is { } again)
            {
                leased[mappingId] = again;
                resent.Add(again);
            }
            else if (await LeaseOneAsync(lease, mappingId, agentId, ct) is { } job)
            {
                leased[mappingId] = job;
            }
        }
        if (leased.Count == 0)
        {
            await transaction.RollbackRegardlessAsync();
            items.Forget();
            return [];
        }
        // Every mapping whose items became rows, leased or not (a claim makes rows of all its released items).
        var shown = await items.MakeLatestAsync(ct);
        await summaries.RefreshManyAsync(shown.Count == 0 ? leased.Keys : leased.Keys.Union(shown), now, ct);
        await transaction.CommitRegardlessAsync();
        observed.Granted(leased, requests, resent.Count);
        var ids = leased.Values.ToList();
        // Leased, so rows: read from the table, not by id through the view (which derives every run item's jobs to compare ids).
        var jobs = await db.StoredJobs.AsNoTracking().Where(j => ids.Contains(j.Id)).ToDictionaryAsync(j => j.MappingId, ct);
        foreach (var job in jobs.Values)
        {
            using var scope = log.Job(job.RunId, job.Id, job.MappingId, job.AgentId);
            if (resent.Contains(job.Id))
            {
                log.LeaseSentAgain(job);
            }
            else
            {
                log.Leased(job);
            }
        }
        return jobs;
    }

    /// <summary>How many leases' time from its first start a job's lost answers may extend its lease for.</summary>
    public const int UnansweredLeasesAtMost = 10;

    /// <summary>
    /// The job the mapping's agent already holds, sent again under a new (version 7) token; its lease extended to
    /// <paramref name="extended"/> when the held token is a fresh lease's (so once), or whenever the agent says its
    /// previous poll went <paramref name="unanswered"/> within <see cref="UnansweredLeasesAtMost"/> leases of the job's
    /// first start. Null when the agent holds none.
    /// </summary>
    private async Task<Guid?> SendAgainAsync(System.Data.Common.DbCommand held, System.Data.Common.DbCommand sendAgain,
        Guid mappingId, Guid agentId, bool unanswered, DateTimeOffset extended, DateTimeOffset now, CancellationToken ct)
    {
        held.Parameters["@agent"].Value = Dialect.Value(agentId);
        held.Parameters["@mapping"].Value = Dialect.Value(mappingId);
        Guid jobId, heldToken;
        DateTimeOffset started;
        await using (var reader = await held.ExecuteReaderAsync(ct))
        {
            if (!await reader.ReadAsync(ct))
            {
                return null;
            }
            (jobId, heldToken, started) = (Dialect.ReadGuid(reader, 0), Dialect.ReadGuid(reader, 1), Dialect.ReadTime(reader, 2));
        }
        // Lost answers extend the lease only so long: an answer that can never get through (a proxy that cuts it, say)
        // ends in a lapse, and the job's attempts end it, instead of keeping it in progress for ever.
        var stillHeard = unanswered && now - started < (extended - now) * UnansweredLeasesAtMost;
        sendAgain.Parameters["@token"].Value = Dialect.Value(Guid.CreateVersion7(now));
        sendAgain.Parameters["@extended"].Value = Dialect.Time(heldToken.Version == 7 && !stillHeard ? now : extended);
        sendAgain.Parameters["@id"].Value = Dialect.Value(jobId);
        sendAgain.Parameters["@held"].Value = Dialect.Value(heldToken);
        return await sendAgain.ExecuteNonQueryAsync(ct) == 1 ? jobId : null;
    }

    /// <summary>Runs the lease statement for a mapping and its agent under a new token: the job it took, if any.</summary>
    private async Task<Guid?> LeaseOneAsync(System.Data.Common.DbCommand command, Guid mappingId, Guid agentId, CancellationToken ct)
    {
        command.Parameters["@agent"].Value = Dialect.Value(agentId);
        command.Parameters["@token"].Value = Dialect.Value(Guid.NewGuid());
        command.Parameters["@mapping"].Value = Dialect.Value(mappingId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Dialect.ReadGuid(reader, 0) : null;
    }

    /// <summary>
    /// Gives back a lease whose poll went away before it was answered. The device never learned the lease token, so
    /// it cannot have begun: the job waits to start again and the attempt is not counted. False when the lease moved on.
    /// </summary>
    public async Task<bool> GiveBackUnheardLeaseAsync(Guid jobId, Guid agentId, Guid leaseToken, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var rows = await store.QueryAsync($"""
            UPDATE jobs SET status = {(int)JobStatus.WaitingToStart}, attempts = attempts - 1,
              started_at = CASE WHEN attempts = 1 THEN NULL ELSE started_at END,
              lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = @now
            WHERE id = @id AND lease_owner = @agent AND lease_token = @token AND status = {InProgress}
            RETURNING run_id, mapping_id
            """, r => (RunId: Dialect.ReadGuid(r, 0), MappingId: Dialect.ReadGuid(r, 1)), ct,
            ("now", Dialect.Time(now)), ("id", jobId), ("agent", agentId), ("token", leaseToken));
        if (rows is not [var row])
        {
            await transaction.RollbackRegardlessAsync();
            return false;
        }
        await summaries.RefreshAsync(row.MappingId, now, ct);
        await signals.CommitAndSignalAsync(transaction, store, [row.MappingId], ct);
        using (log.Job(row.RunId, jobId, row.MappingId, agentId))
        {
            log.GivenBack();
        }
        return true;
    }

    /// <summary>Extends a lease and records progress, if the calling agent still holds the lease (its owner and its token).</summary>
    public async Task<LeaseRenewal> RenewAsync(Guid jobId, Guid agentId, Guid leaseToken, TimeSpan duration, JobProgress progress, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // After the wait for SQLite's writer, as a lease claim: the renewed lease counts from its write.
        var now = time.GetUtcNow();
        var rows = await store.QueryAsync($"""
            UPDATE jobs SET lease_expires_at = @expires, items_done = @done, items_total = @total, items_changed = @changed,
              items_failed = @failed, step = COALESCE(@step, step), message = COALESCE(@message, message), areas = COALESCE(@areas, areas),
              updated_at = @now
            WHERE id = @id AND lease_owner = @agent AND lease_token = @token AND status = {InProgress}
            RETURNING stop_requested, run_id, mapping_id
            """, r => (StopRequested: r.GetBoolean(0), RunId: Dialect.ReadGuid(r, 1), MappingId: Dialect.ReadGuid(r, 2)), ct,
            ("expires", Dialect.Time(now + duration)), ("done", progress.ItemsDone), ("total", progress.ItemsTotal),
            ("changed", progress.ItemsChanged), ("failed", progress.ItemsFailed), ("step", progress.Step), ("message", progress.Message),
            ("areas", progress.AreasJson), ("now", Dialect.Time(now)), ("id", jobId), ("agent", agentId), ("token", leaseToken));
        if (rows is not [var row])
        {
            await transaction.RollbackRegardlessAsync();
            using (log.Job(null, jobId, null, agentId))
            {
                log.Renewed(LeaseRenewal.Lost, progress.ItemsDone, progress.ItemsTotal);
            }
            return LeaseRenewal.Lost;
        }
        await summaries.ShowProgressAsync(row.MappingId, jobId, progress.ItemsDone, progress.ItemsTotal, now, ct);
        await transaction.CommitRegardlessAsync();
        var renewal = row.StopRequested ? LeaseRenewal.StopRequested : LeaseRenewal.Renewed;
        using (log.Job(row.RunId, jobId, row.MappingId, agentId))
        {
            log.Renewed(renewal, progress.ItemsDone, progress.ItemsTotal);
        }
        return renewal;
    }

    /// <summary>Ends a job the calling agent holds; releases or fails the jobs that waited for it. False when it does not hold the lease.</summary>
    public async Task<bool> CompleteAsync(Guid jobId, Guid agentId, Guid leaseToken, JobCompletion completion, CancellationToken ct)
    {
        if (!JobStateMachine.CanMove(JobStatus.InProgress, completion.Status) || completion.Status == JobStatus.WaitingToStart)
        {
            throw new ArgumentException($"A job cannot end as {completion.Status}.", nameof(completion));
        }
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var p = completion.Progress;
        var rows = await store.QueryAsync($"""
            UPDATE jobs SET status = @status, items_done = @done, items_total = @total, items_changed = @changed, items_failed = @failed,
              error_code = @code, error_message = @message, areas = COALESCE(@areas, areas), finished_at = @now, updated_at = @now,
              lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
            WHERE id = @id AND lease_owner = @agent AND lease_token = @token AND status = {InProgress}
            RETURNING run_id, mapping_id
            """, r => (RunId: Dialect.ReadGuid(r, 0), MappingId: Dialect.ReadGuid(r, 1)), ct,
            ("status", (int)completion.Status), ("done", p.ItemsDone), ("total", p.ItemsTotal), ("changed", p.ItemsChanged),
            ("failed", p.ItemsFailed), ("code", completion.ErrorCode), ("message", completion.ErrorMessage), ("areas", p.AreasJson),
            ("now", Dialect.Time(now)),
            ("id", jobId), ("agent", agentId), ("token", leaseToken));
        if (rows is not [var row])
        {
            await transaction.RollbackRegardlessAsync();
            return false;
        }
        using var scope = log.Job(row.RunId, jobId, row.MappingId, agentId);
        await AfterJobOverAsync(jobId, row.MappingId, completion.Status, now, ct);
        // A finished rejoin may have released the mapping's other jobs.
        await signals.CommitAndSignalAsync(transaction, store, [row.MappingId], ct);
        log.Completed(completion);
        return true;
    }

    /// <summary>The jobs running now, on every replica (read through the running jobs' partial index).</summary>
    public Task<int> CountRunningAsync(CancellationToken ct) =>
        // Running, so rows: through the view, SQLite would also derive every run item's jobs to test their status.
        db.StoredJobs.IgnoreQueryFilters().CountAsync(j => j.Status == JobStatus.InProgress && j.LeaseExpiresAt != null, ct);

    /// <summary>
    /// Returns jobs whose lease lapsed to their queue, or ends them as <see cref="JobOutcomeRules.AfterLapsedLease"/>
    /// decides (a stop was asked, too many attempts, the device offline past its policy's limit); not while a renewal
    /// from the lease's holder, sent before the lease ran out, waits for the store in this server (<see cref="RenewalsWaiting"/>).
    /// Returns how many jobs it changed.
    /// </summary>
    public async Task<int> ExpireLeasesAsync(int maxAttempts, CancellationToken ct, DateTimeOffset? watchingSince = null)
    {
        var now = time.GetUtcNow();
        // Running jobs are rows (StoredJobs): the tick reads the table's partial index, not every run item's derived jobs.
        var lapsed = await db.StoredJobs.AsNoTracking()
            .Where(j => j.Status == JobStatus.InProgress && j.LeaseExpiresAt < now)
            .OrderBy(j => j.LeaseExpiresAt)
            .Select(j => new
            {
                j.Id,
                j.RunId,
                j.MappingId,
                j.ProjectId,
                j.AgentId,
                j.LeaseOwner,
                j.StopRequested,
                j.Attempts,
                j.Kind,
                j.UpdatedAt,
                j.LeaseExpiresAt,
                // An agent id is unique: Max reads its one row (FirstOrDefault would draw EF's "no OrderBy" warning).
                LastSeen = db.Agents.Where(a => a.Id == j.AgentId).Max(a => (DateTimeOffset?)a.LastSeenAt),
            })
            // The jobs whose renewal this server is handling are read too, and left: they never crowd out the others.
            .Take(1000 + renewals.Count)
            .ToListAsync(ct);
        // A renewal from the holder, sent before the lease ran out, is waiting for the store here: the next tick
        // decides again once it renewed or left (one call's stay at most).
        lapsed.RemoveAll(job => renewals.Holds(job.Id, job.LeaseOwner, job.LeaseExpiresAt!.Value));
        if (lapsed.Count == 0)
        {
            return 0;
        }
        var limits = await OfflineLimitsAsync(ct);
        var touched = 0;
        foreach (var job in lapsed)
        {
            var outcome = JobOutcomeRules.AfterLapsedLease(new LapsedLease(job.StopRequested, job.Attempts, JobOutcomeRules.LastSignOfLife(job.LastSeen, watchingSince)),
                new SilenceLimits(maxAttempts, limits.GetValueOrDefault(job.ProjectId)), now);
            using var scope = log.Job(job.RunId, job.Id, job.MappingId, job.AgentId);
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var changed = await store.ExecuteAsync($"""
                UPDATE jobs SET status = @status, error_code = @code, error_message = @message, updated_at = @now,
                  finished_at = {(outcome.IsOver ? "@now" : "NULL")}, lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
                WHERE id = @id AND status = {InProgress} AND lease_expires_at < @now AND stop_requested = @stop
                """, ct, ("status", (int)outcome.Status), ("code", outcome.Code), ("message", outcome.Message), ("now", Dialect.Time(now)),
                ("id", job.Id), ("stop", job.StopRequested));
            if (changed == 0)
            {
                // Renewed, completed or asked to stop meanwhile: the next tick decides again.
                await transaction.RollbackRegardlessAsync();
                continue;
            }
            touched++;
            if (outcome.IsOver)
            {
                await AfterJobOverAsync(job.Id, job.MappingId, outcome.Status, now, ct);
            }
            else
            {
                await summaries.RefreshAsync(job.MappingId, now, ct);
            }
            await notifications.LeaseLapsedAsync(job.Id, outcome, ct);
            await signals.CommitAndSignalAsync(transaction, store, [job.MappingId], ct);
            log.LeaseLapsed(job.Kind, job.Attempts, job.UpdatedAt, job.LeaseExpiresAt, job.LastSeen, outcome);
            telemetry.LeaseLapsed(outcome.Status);
        }
        return touched;
    }

    /// <summary>
    /// Fails the jobs waiting to start on a device whose enrolled agent has not been heard of for longer than the
    /// project's policy allows (<see cref="JobOutcomeRules.DeviceOffline"/>). A device that never enrolled is
    /// not offline: its agent may not be installed yet. Returns how many jobs failed.
    /// </summary>
    public async Task<int> FailOfflineDevicesAsync(CancellationToken ct, DateTimeOffset? watchingSince = null)
    {
        var now = time.GetUtcNow();
        var limits = await OfflineLimitsAsync(ct);
        if (limits.Count == 0)
        {
            return 0;
        }
        // Project by project limit (a few distinct values), so that many silent devices of a project with a long limit
        // never crowd out those of a project with a short one.
        var candidates = new List<(Guid Id, Guid RunId, Guid MappingId, Guid ProjectId, Guid AgentId, DateTimeOffset LastSeenAt)>();
        foreach (var group in limits.Where(l => l.Value is not null).GroupBy(l => l.Value!.Value))
        {
            var silentSince = now - group.Key;
            var projectIds = group.Select(l => l.Key).ToList();
            // Agents of the mapping's device (its key, on the project's source connection) that may work; only when none
            // of them was heard of lately.
            var rows = await (
                    from j in db.Jobs.AsNoTracking()
                    where j.Status == JobStatus.WaitingToStart && projectIds.Contains(j.ProjectId)
                    join m in db.StoredMappings on j.MappingId equals m.Id
                    join p in db.Projects on m.ProjectId equals p.Id
                    join a in db.Agents on new { Key = m.SourceDeviceKey, Connection = p.SourceConnectionId } equals new { Key = a.DeviceKey, Connection = a.ConnectionId }
                    where a.RevokedAt == null && a.Approval == AgentApproval.Active && a.LastSeenAt < silentSince
                        && !db.Agents.Any(b => b.DeviceKey == m.SourceDeviceKey && b.ConnectionId == p.SourceConnectionId
                            && b.RevokedAt == null && b.Approval == AgentApproval.Active && b.LastSeenAt >= silentSince)
                    orderby j.Id
                    select new { j.Id, j.RunId, j.MappingId, j.ProjectId, AgentId = a.Id, a.LastSeenAt })
                .Take(1000)
                .ToListAsync(ct);
            candidates.AddRange(rows.Select(r => (r.Id, r.RunId, r.MappingId, r.ProjectId, r.AgentId, r.LastSeenAt)));
        }
        var failed = 0;
        foreach (var job in candidates.GroupBy(c => c.Id).Select(g => g.MaxBy(c => c.LastSeenAt)!))
        {
            if (JobOutcomeRules.DeviceOffline(JobOutcomeRules.LastSignOfLife(job.LastSeenAt, watchingSince), limits.GetValueOrDefault(job.ProjectId), now) is not { } outcome)
            {
                continue;
            }
            using var scope = log.Job(job.RunId, job.Id, job.MappingId, job.AgentId);
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            await items.MaterialiseJobAsync(job.Id, ct);
            var changed = await store.ExecuteAsync($"""
                UPDATE jobs SET status = @status, error_code = @code, error_message = @message, updated_at = @now, finished_at = @now
                WHERE id = @id AND status = {(int)JobStatus.WaitingToStart}
                """, ct, ("status", (int)outcome.Status), ("code", outcome.Code), ("message", outcome.Message), ("now", Dialect.Time(now)),
                ("id", job.Id));
            if (changed == 0)
            {
                // Leased meanwhile: the agent is back.
                await transaction.RollbackRegardlessAsync();
                items.Forget();
                continue;
            }
            await items.MakeLatestAsync(ct);
            await AfterJobOverAsync(job.Id, job.MappingId, outcome.Status, now, ct);
            await transaction.CommitRegardlessAsync();
            log.DeviceOffline(outcome);
            failed++;
        }
        return failed;
    }

    /// <summary>Each project's device-offline limit, from its policy.</summary>
    private async Task<Dictionary<Guid, TimeSpan?>> OfflineLimitsAsync(CancellationToken ct)
    {
        var policies = await db.Policies.AsNoTracking().Select(p => new { p.Id, p.Settings }).ToDictionaryAsync(p => p.Id, p => p.Settings, ct);
        return await db.Projects.AsNoTracking().Select(p => new { p.Id, p.PolicyId })
            .ToDictionaryAsync(p => p.Id, p => policies.TryGetValue(p.PolicyId, out var settings) ? (TimeSpan?)settings.DeviceOfflineLimit : null, ct);
    }

    /// <summary>
    /// Claims a job waiting for its destination for one preparation attempt: no other tick or replica prepares it
    /// before <paramref name="until"/>. False when another holds it or it no longer waits. The claim and the
    /// back-off after a failed attempt use the lease's expiry, which a job has no other use for while it waits.
    /// </summary>
    public async Task<bool> ClaimPreparationAsync(Guid jobId, DateTimeOffset until, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var claimed = await store.ExecuteAsync($"""
            UPDATE jobs SET lease_expires_at = @until
            WHERE id = @id AND status = {(int)JobStatus.WaitingForDestination} AND (lease_expires_at IS NULL OR lease_expires_at < @now)
            """, ct, ("until", Dialect.Time(until)), ("now", Dialect.Time(now)), ("id", jobId)) == 1;
        await transaction.CommitRegardlessAsync();
        return claimed;
    }

    /// <summary>Leaves a job waiting for its destination until <paramref name="nextTry"/>, saying why on the job.</summary>
    public async Task DeferPreparationAsync(Guid jobId, DateTimeOffset nextTry, string message, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await store.ExecuteAsync($"""
            UPDATE jobs SET lease_expires_at = @next, error_message = @message, updated_at = @now
            WHERE id = @id AND status = {(int)JobStatus.WaitingForDestination}
            """, ct, ("next", Dialect.Time(nextTry)), ("message", message), ("now", Dialect.Time(now)), ("id", jobId));
        await notifications.PreparationFailingAsync(jobId, message, ct);
        await transaction.CommitRegardlessAsync();
    }

    /// <summary>The server prepared the destination (or could not): the job may start, or fails with the reason.</summary>
    public Task<bool> DestinationPreparedAsync(Guid jobId, string? failureCode, string? failureMessage, CancellationToken ct) =>
        DestinationPreparedAsync(jobId, null, failureCode, failureMessage, ct);

    /// <summary>As above, keeping the (encrypted) join data the agent will receive with the job.</summary>
    public async Task<bool> DestinationPreparedAsync(Guid jobId, string? payloadProtected, string? failureCode, string? failureMessage, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var to = failureCode is null ? JobStatus.WaitingToStart : JobStatus.Failed;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var rows = await store.QueryAsync($"""
            UPDATE jobs SET status = @status, error_code = @code, error_message = @message, updated_at = @now, lease_expires_at = NULL,
              destination_payload_protected = @payload, finished_at = {(to == JobStatus.Failed ? "@now" : "NULL")}
            WHERE id = @id AND status = {(int)JobStatus.WaitingForDestination}
            RETURNING run_id, mapping_id
            """, r => (RunId: Dialect.ReadGuid(r, 0), MappingId: Dialect.ReadGuid(r, 1)), ct,
            ("status", (int)to), ("code", failureCode), ("message", failureMessage), ("payload", payloadProtected),
            ("now", Dialect.Time(now)), ("id", jobId));
        if (rows is not [var row])
        {
            await transaction.RollbackRegardlessAsync();
            return false;
        }
        using var scope = log.Job(row.RunId, jobId, row.MappingId, null);
        if (to == JobStatus.Failed)
        {
            await AfterJobOverAsync(jobId, row.MappingId, to, now, ct);
        }
        else
        {
            await summaries.RefreshAsync(row.MappingId, now, ct);
        }
        await signals.CommitAndSignalAsync(transaction, store, [row.MappingId], ct);
        log.Prepared(failureCode);
        return true;
    }

    private async Task AfterJobOverAsync(Guid jobId, Guid mappingId, JobStatus status, DateTimeOffset now, CancellationToken ct)
    {
        // Over, so a row (StoredJobs).
        var kind = await db.StoredJobs.Where(j => j.Id == jobId).Select(j => j.Kind).FirstAsync(ct);
        telemetry.JobEnded(status, kind);
        // The offline join data holds the machine account's password: once the job is over nobody needs it.
        await store.ExecuteAsync("UPDATE jobs SET destination_payload_protected = NULL WHERE id = @id AND destination_payload_protected IS NOT NULL",
            ct, ("id", jobId));
        if (kind == JobKind.RejoinDomain && status is JobStatus.Finished or JobStatus.Exceptions)
        {
            await store.ExecuteAsync("UPDATE mappings SET rejoined_at = @now WHERE id = @id", ct, ("now", Dialect.Time(now)), ("id", mappingId));
        }
        await ReleaseOrFailDependentsAsync(jobId, status, now, ct);
        await summaries.RefreshAsync(mappingId, now, ct);
        await notifications.JobOverAsync(jobId, status, ct);
    }

    private async Task<int> ReleaseOrFailDependentsAsync(Guid prerequisiteId, JobStatus prerequisiteStatus, DateTimeOffset now, CancellationToken ct)
    {
        var withPreparation = JobStateMachine.AfterPrerequisite(prerequisiteStatus, needsDestinationPreparation: true);
        var withoutPreparation = JobStateMachine.AfterPrerequisite(prerequisiteStatus, needsDestinationPreparation: false);
        if (withoutPreparation == JobStatus.Failed)
        {
            return await FailDependentsAsync(prerequisiteId, prerequisiteStatus, now, ct);
        }
        var released = await store.ExecuteAsync($"""
            UPDATE jobs SET status = CASE WHEN needs_destination_preparation THEN {(int)withPreparation} ELSE {(int)withoutPreparation} END,
              updated_at = @now
            WHERE {DependentsOf} AND status = {(int)JobStatus.WaitingForPrerequisite}
            """, ct, ("now", Dialect.Time(now)), ("id", prerequisiteId));
        log.Dependents(prerequisiteStatus, withoutPreparation, released);
        return released;
    }

    /// <summary>A rejoin's dependents are in its run, on its mapping: the (run, mapping) index finds them.</summary>
    private const string DependentsOf =
        "(run_id, mapping_id) = (SELECT p.run_id, p.mapping_id FROM jobs p WHERE p.id = @id) AND prerequisite_job_id = @id";

    private async Task<int> FailDependentsAsync(Guid prerequisiteId, JobStatus prerequisiteStatus, DateTimeOffset now, CancellationToken ct)
    {
        var failed = await store.ExecuteAsync($"""
            UPDATE jobs SET status = {(int)JobStatus.Failed}, error_code = @code, error_message = @message, finished_at = @now, updated_at = @now
            WHERE {DependentsOf} AND status IN ({(int)JobStatus.WaitingForPrerequisite}, {(int)JobStatus.Scheduled})
            """, ct, ("code", JobErrorCodes.PrerequisiteFailed),
            ("message", $"Prerequisite failed: the Rejoin domain job it waited for ended {prerequisiteStatus.DisplayName().ToLowerInvariant()}. Re-run it with its rejoin."),
            ("now", Dialect.Time(now)), ("id", prerequisiteId));
        log.Dependents(prerequisiteStatus, JobStatus.Failed, failed);
        return failed;
    }

    private static string InList(IEnumerable<JobStatus> statuses) => string.Join(", ", statuses.Select(s => (int)s));
}
