using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Rehome.Core.Runs;
using Rehome.Server.Gateway;
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

/// <summary>
/// The one place that writes job statuses. Every statement moves jobs only from the statuses that
/// <see cref="JobStateMachine"/> allows, so concurrent writers (API, engine tick, agents, other replicas)
/// can race without breaking the rules: the loser's UPDATE simply matches no row. Whatever makes a job startable
/// signals its mapping after the commit, which wakes the agent's long poll.
/// </summary>
public sealed class JobTransitions(RehomeDbContext db, SqlDialect dialect, TimeProvider time, JobSignals signals, RehomeTelemetry telemetry)
{
    private const int InProgress = (int)JobStatus.InProgress;

    /// <summary>Moves the due scheduled runs' jobs to the status they start in. Returns the number of runs released.</summary>
    public async Task<int> ReleaseDueRunsAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var due = await db.Runs.Where(r => r.ReleasedAt == null && r.StartAt <= now).Select(r => r.Id).ToListAsync(ct);
        foreach (var runId in due)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            // The CASE mirrors JobStateMachine.AtStart.
            await ExecuteAsync($"""
                UPDATE jobs SET status = CASE
                    WHEN prerequisite_job_id IS NOT NULL THEN {(int)JobStatus.WaitingForPrerequisite}
                    WHEN needs_destination_preparation THEN {(int)JobStatus.WaitingForDestination}
                    ELSE {(int)JobStatus.WaitingToStart} END,
                  updated_at = @now
                WHERE run_id = @run AND status = {(int)JobStatus.Scheduled}
                """, ct, ("now", dialect.Time(now)), ("run", runId));
            var released = await db.Runs.Where(r => r.Id == runId && r.ReleasedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.ReleasedAt, now), ct);
            if (released == 0)
            {
                // Another replica released it first.
                await transaction.RollbackAsync(ct);
                continue;
            }
            await RefreshMappingsOfRunAsync(runId, now, ct);
            await transaction.CommitAsync(ct);
            await SignalStartableAsync(runId, ct);
        }
        return due.Count;
    }

    /// <summary>Wakes the agents of these mappings (call after the commit that made their jobs startable).</summary>
    public void Signal(IEnumerable<Guid> mappingIds) => signals.Signal(mappingIds);

    /// <summary>Wakes the agents of a run's mappings that have a job to start now.</summary>
    public async Task SignalStartableAsync(Guid runId, CancellationToken ct) =>
        signals.Signal(await db.Jobs.Where(j => j.RunId == runId && j.Status == JobStatus.WaitingToStart)
            .Select(j => j.MappingId).Distinct().ToListAsync(ct));

    /// <summary>Stops one job: at once if it is waiting, by asking its agent if it runs. Jobs waiting for it fail.</summary>
    public async Task<StopEffect> StopJobAsync(Guid jobId, string actor, CancellationToken ct)
    {
        var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, ct)
            ?? throw new KeyNotFoundException($"Job {jobId} does not exist.");
        var effect = JobStateMachine.Stop(job.Status);
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        switch (effect)
        {
            case StopEffect.StopNow:
                var stopped = await ExecuteAsync($"""
                    UPDATE jobs SET status = {(int)JobStatus.Stopped}, error_code = @code, error_message = @message,
                      finished_at = @now, updated_at = @now, destination_payload_protected = NULL
                    WHERE id = @id AND status IN ({InList(JobStateMachine.SourcesOf(JobStatus.Stopped).Where(s => s != JobStatus.InProgress))})
                    """, ct, ("code", JobErrorCodes.StoppedByAdministrator), ("message", $"Stopped by {actor}."),
                    ("now", dialect.Time(now)), ("id", jobId));
                if (stopped == 0)
                {
                    // It moved on meanwhile (an agent leased it, say): ask again from its new status.
                    await transaction.RollbackAsync(ct);
                    return await StopJobAsync(jobId, actor, ct);
                }
                await FailDependentsAsync(jobId, JobStatus.Stopped, now, ct);
                break;
            case StopEffect.RequestFromAgent:
                await ExecuteAsync(
                    $"UPDATE jobs SET stop_requested = @yes, updated_at = @now WHERE id = @id AND status = {InProgress}",
                    ct, ("yes", true), ("now", dialect.Time(now)), ("id", jobId));
                break;
            case StopEffect.AlreadyOver:
                await transaction.RollbackAsync(ct);
                return effect;
        }
        await RefreshMappingAsync(job.MappingId, now, ct);
        await transaction.CommitAsync(ct);
        return effect;
    }

    /// <summary>Stops every job of a run that is not over. Returns how many stopped now and how many were asked to.</summary>
    public async Task<(int StoppedNow, int StopRequested)> StopRunAsync(Guid runId, string actor, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var stopped = await ExecuteAsync($"""
            UPDATE jobs SET status = {(int)JobStatus.Stopped}, error_code = @code, error_message = @message,
              finished_at = @now, updated_at = @now, destination_payload_protected = NULL
            WHERE run_id = @run AND status IN ({InList(JobStateMachine.SourcesOf(JobStatus.Stopped).Where(s => s != JobStatus.InProgress))})
            """, ct, ("code", JobErrorCodes.StoppedByAdministrator), ("message", $"Stopped by {actor} (whole run)."),
            ("now", dialect.Time(now)), ("run", runId));
        var requested = await ExecuteAsync(
            $"UPDATE jobs SET stop_requested = @yes, updated_at = @now WHERE run_id = @run AND status = {InProgress}",
            ct, ("yes", true), ("now", dialect.Time(now)), ("run", runId));
        await RefreshMappingsOfRunAsync(runId, now, ct);
        await transaction.CommitAsync(ct);
        return (stopped, requested);
    }

    /// <summary>
    /// Hands the mapping's next startable job to an agent: one UPDATE that stamps a fresh lease, so two agents
    /// (or two replicas) can never both get it. Rejoin comes first, then the other kinds in their order.
    /// </summary>
    public async Task<Job?> LeaseNextAsync(Guid mappingId, Guid agentId, TimeSpan duration, CancellationToken ct) =>
        (await LeaseNextManyAsync([(mappingId, agentId)], duration, ct)).GetValueOrDefault(mappingId);

    /// <summary>
    /// Leases the next startable job of many mappings in one transaction (the gateway gathers the polls that woke
    /// together): the same conditional UPDATE per mapping, one summary refresh, one commit. Returns the leased
    /// jobs by mapping.
    /// </summary>
    public async Task<Dictionary<Guid, Job>> LeaseNextManyAsync(IReadOnlyList<(Guid MappingId, Guid AgentId)> requests, TimeSpan duration, CancellationToken ct)
    {
        using var observed = telemetry.StartLeaseBatch(requests.Count);
        var now = time.GetUtcNow();
        var leased = new Dictionary<Guid, Guid>();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await using var command = CreateCommand($"""
            UPDATE jobs SET status = {InProgress}, lease_owner = @agent, agent_id = @agent, lease_token = @token, lease_expires_at = @expires,
              attempts = attempts + 1, started_at = COALESCE(started_at, @now), updated_at = @now
            WHERE id = (SELECT id FROM jobs WHERE mapping_id = @mapping AND status = {(int)JobStatus.WaitingToStart}
                        ORDER BY kind, created_at LIMIT 1 {dialect.SkipLocked})
              AND status = {(int)JobStatus.WaitingToStart}
            RETURNING id
            """, [("agent", Guid.Empty), ("token", Guid.Empty), ("expires", dialect.Time(now + duration)), ("now", dialect.Time(now)), ("mapping", Guid.Empty)]);
        foreach (var (mappingId, agentId) in requests.DistinctBy(r => r.MappingId))
        {
            command.Parameters["@agent"].Value = dialect.Value(agentId);
            command.Parameters["@token"].Value = dialect.Value(Guid.NewGuid());
            command.Parameters["@mapping"].Value = dialect.Value(mappingId);
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct))
            {
                leased[mappingId] = dialect.ReadGuid(reader, 0);
            }
        }
        if (leased.Count == 0)
        {
            await transaction.RollbackAsync(ct);
            return [];
        }
        foreach (var chunk in leased.Keys.Chunk(500))
        {
            var names = chunk.Select((_, i) => "m" + i).ToList();
            await ExecuteAsync(RefreshSql($"id IN ({string.Join(", ", names.Select(n => "@" + n))})"), ct,
                [("now", dialect.Time(now)), .. chunk.Select((id, i) => (names[i], (object?)id))]);
        }
        await transaction.CommitAsync(ct);
        observed.Granted(leased, requests);
        var ids = leased.Values.ToList();
        return await db.Jobs.AsNoTracking().Where(j => ids.Contains(j.Id)).ToDictionaryAsync(j => j.MappingId, ct);
    }

    /// <summary>Extends a lease and records progress, if the calling agent still holds the lease (its owner and its token).</summary>
    public async Task<LeaseRenewal> RenewAsync(Guid jobId, Guid agentId, Guid leaseToken, TimeSpan duration, JobProgress progress, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var stopRequested = await ScalarAsync<bool?>($"""
            UPDATE jobs SET lease_expires_at = @expires, items_done = @done, items_total = @total, items_changed = @changed,
              items_failed = @failed, step = COALESCE(@step, step), message = COALESCE(@message, message), areas = COALESCE(@areas, areas),
              updated_at = @now
            WHERE id = @id AND lease_owner = @agent AND lease_token = @token AND status = {InProgress}
            RETURNING stop_requested
            """, ct, ("expires", dialect.Time(now + duration)), ("done", progress.ItemsDone), ("total", progress.ItemsTotal),
            ("changed", progress.ItemsChanged), ("failed", progress.ItemsFailed), ("step", progress.Step), ("message", progress.Message),
            ("areas", progress.AreasJson), ("now", dialect.Time(now)), ("id", jobId), ("agent", agentId), ("token", leaseToken));
        if (stopRequested is null)
        {
            await transaction.RollbackAsync(ct);
            return LeaseRenewal.Lost;
        }
        await ExecuteAsync("""
            UPDATE mappings SET items_done = @done, items_total = @total, updated_at = @now
            WHERE last_job_id = @id
            """, ct, ("done", progress.ItemsDone), ("total", progress.ItemsTotal), ("now", dialect.Time(now)), ("id", jobId));
        await transaction.CommitAsync(ct);
        return stopRequested.Value ? LeaseRenewal.StopRequested : LeaseRenewal.Renewed;
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
        var mappingId = await ScalarAsync<Guid?>($"""
            UPDATE jobs SET status = @status, items_done = @done, items_total = @total, items_changed = @changed, items_failed = @failed,
              error_code = @code, error_message = @message, areas = COALESCE(@areas, areas), finished_at = @now, updated_at = @now,
              lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
            WHERE id = @id AND lease_owner = @agent AND lease_token = @token AND status = {InProgress}
            RETURNING mapping_id
            """, ct, ("status", (int)completion.Status), ("done", p.ItemsDone), ("total", p.ItemsTotal), ("changed", p.ItemsChanged),
            ("failed", p.ItemsFailed), ("code", completion.ErrorCode), ("message", completion.ErrorMessage), ("areas", p.AreasJson),
            ("now", dialect.Time(now)),
            ("id", jobId), ("agent", agentId), ("token", leaseToken));
        if (mappingId is not { } mapping)
        {
            await transaction.RollbackAsync(ct);
            return false;
        }
        await AfterJobOverAsync(jobId, mapping, completion.Status, now, ct);
        await transaction.CommitAsync(ct);
        // A finished rejoin may have released the mapping's other jobs.
        signals.Signal(mapping);
        return true;
    }

    /// <summary>
    /// Returns jobs whose lease lapsed to their queue (or stops them if a stop was asked, or fails them after
    /// too many attempts). Returns how many jobs it touched.
    /// </summary>
    public async Task<int> ExpireLeasesAsync(int maxAttempts, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var lapsed = await db.Jobs.AsNoTracking()
            .Where(j => j.Status == JobStatus.InProgress && j.LeaseExpiresAt < now)
            .OrderBy(j => j.LeaseExpiresAt)
            .Select(j => new { j.Id, j.MappingId, j.StopRequested, j.Attempts, j.Kind })
            .Take(1000)
            .ToListAsync(ct);
        foreach (var job in lapsed)
        {
            var status = job.StopRequested ? JobStatus.Stopped
                : job.Attempts >= maxAttempts ? JobStatus.Failed
                : JobStatus.WaitingToStart;
            var (code, message) = status switch
            {
                JobStatus.Stopped => (JobErrorCodes.StoppedByAdministrator, "Stopped: the agent did not report back after the stop request."),
                JobStatus.Failed => (JobErrorCodes.LeaseLapsed,
                    $"The device's agent stopped reporting {job.Attempts} time(s); check that the device is on and its agent runs, then re-run."),
                _ => (JobErrorCodes.LeaseLapsed, "The device's agent stopped reporting; the job went back to its queue and will resume."),
            };
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var over = status != JobStatus.WaitingToStart;
            var changed = await ExecuteAsync($"""
                UPDATE jobs SET status = @status, error_code = @code, error_message = @message, updated_at = @now,
                  finished_at = {(over ? "@now" : "NULL")}, lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
                WHERE id = @id AND status = {InProgress} AND lease_expires_at < @now AND stop_requested = @stop
                """, ct, ("status", (int)status), ("code", code), ("message", message), ("now", dialect.Time(now)), ("id", job.Id),
                ("stop", job.StopRequested));
            if (changed == 0)
            {
                // Renewed, completed or asked to stop meanwhile: the next tick decides again.
                await transaction.RollbackAsync(ct);
                continue;
            }
            if (over)
            {
                await AfterJobOverAsync(job.Id, job.MappingId, status, now, ct);
            }
            else
            {
                await RefreshMappingAsync(job.MappingId, now, ct);
            }
            await transaction.CommitAsync(ct);
            telemetry.LeaseLapsed(status);
            signals.Signal(job.MappingId);
        }
        return lapsed.Count;
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
        var claimed = await ExecuteAsync($"""
            UPDATE jobs SET lease_expires_at = @until
            WHERE id = @id AND status = {(int)JobStatus.WaitingForDestination} AND (lease_expires_at IS NULL OR lease_expires_at < @now)
            """, ct, ("until", dialect.Time(until)), ("now", dialect.Time(now)), ("id", jobId)) == 1;
        await transaction.CommitAsync(ct);
        return claimed;
    }

    /// <summary>Leaves a job waiting for its destination until <paramref name="nextTry"/>, saying why on the job.</summary>
    public async Task DeferPreparationAsync(Guid jobId, DateTimeOffset nextTry, string message, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await ExecuteAsync($"""
            UPDATE jobs SET lease_expires_at = @next, error_message = @message, updated_at = @now
            WHERE id = @id AND status = {(int)JobStatus.WaitingForDestination}
            """, ct, ("next", dialect.Time(nextTry)), ("message", message), ("now", dialect.Time(now)), ("id", jobId));
        await transaction.CommitAsync(ct);
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
        var mappingId = await ScalarAsync<Guid?>($"""
            UPDATE jobs SET status = @status, error_code = @code, error_message = @message, updated_at = @now, lease_expires_at = NULL,
              destination_payload_protected = @payload, finished_at = {(to == JobStatus.Failed ? "@now" : "NULL")}
            WHERE id = @id AND status = {(int)JobStatus.WaitingForDestination}
            RETURNING mapping_id
            """, ct, ("status", (int)to), ("code", failureCode), ("message", failureMessage), ("payload", payloadProtected),
            ("now", dialect.Time(now)), ("id", jobId));
        if (mappingId is not { } mapping)
        {
            await transaction.RollbackAsync(ct);
            return false;
        }
        if (to == JobStatus.Failed)
        {
            await AfterJobOverAsync(jobId, mapping, to, now, ct);
        }
        else
        {
            await RefreshMappingAsync(mapping, now, ct);
        }
        await transaction.CommitAsync(ct);
        signals.Signal(mapping);
        return true;
    }

    private async Task AfterJobOverAsync(Guid jobId, Guid mappingId, JobStatus status, DateTimeOffset now, CancellationToken ct)
    {
        var kind = await db.Jobs.Where(j => j.Id == jobId).Select(j => j.Kind).FirstAsync(ct);
        telemetry.JobEnded(status, kind);
        // The offline join data holds the machine account's password: once the job is over nobody needs it.
        await ExecuteAsync("UPDATE jobs SET destination_payload_protected = NULL WHERE id = @id AND destination_payload_protected IS NOT NULL",
            ct, ("id", jobId));
        if (kind == JobKind.RejoinDomain && status is JobStatus.Finished or JobStatus.Exceptions)
        {
            await ExecuteAsync("UPDATE mappings SET rejoined_at = @now WHERE id = @id", ct, ("now", dialect.Time(now)), ("id", mappingId));
        }
        await ReleaseOrFailDependentsAsync(jobId, status, now, ct);
        await RefreshMappingAsync(mappingId, now, ct);
    }

    private async Task<int> ReleaseOrFailDependentsAsync(Guid prerequisiteId, JobStatus prerequisiteStatus, DateTimeOffset now, CancellationToken ct)
    {
        var withPreparation = JobStateMachine.AfterPrerequisite(prerequisiteStatus, needsDestinationPreparation: true);
        var withoutPreparation = JobStateMachine.AfterPrerequisite(prerequisiteStatus, needsDestinationPreparation: false);
        if (withoutPreparation == JobStatus.Failed)
        {
            return await FailDependentsAsync(prerequisiteId, prerequisiteStatus, now, ct);
        }
        return await ExecuteAsync($"""
            UPDATE jobs SET status = CASE WHEN needs_destination_preparation THEN {(int)withPreparation} ELSE {(int)withoutPreparation} END,
              updated_at = @now
            WHERE {DependentsOf} AND status = {(int)JobStatus.WaitingForPrerequisite}
            """, ct, ("now", dialect.Time(now)), ("id", prerequisiteId));
    }

    /// <summary>A rejoin's dependents are in its run, on its mapping: the (run, mapping) index finds them.</summary>
    private const string DependentsOf =
        "(run_id, mapping_id) = (SELECT p.run_id, p.mapping_id FROM jobs p WHERE p.id = @id) AND prerequisite_job_id = @id";

    private Task<int> FailDependentsAsync(Guid prerequisiteId, JobStatus prerequisiteStatus, DateTimeOffset now, CancellationToken ct) =>
        ExecuteAsync($"""
            UPDATE jobs SET status = {(int)JobStatus.Failed}, error_code = @code, error_message = @message, finished_at = @now, updated_at = @now
            WHERE {DependentsOf} AND status IN ({(int)JobStatus.WaitingForPrerequisite}, {(int)JobStatus.Scheduled})
            """, ct, ("code", JobErrorCodes.PrerequisiteFailed),
            ("message", $"Prerequisite failed: the Rejoin domain job it waited for ended {prerequisiteStatus.DisplayName().ToLowerInvariant()}. Re-run it with its rejoin."),
            ("now", dialect.Time(now)), ("id", prerequisiteId));

    /// <summary>Sets the mapping's stage and status from its latest run: a running job first, then waiting ones, then the worst outcome.</summary>
    internal Task RefreshMappingAsync(Guid mappingId, DateTimeOffset now, CancellationToken ct) =>
        ExecuteAsync(RefreshSql("id = @mapping"), ct, ("now", dialect.Time(now)), ("mapping", mappingId));

    internal Task RefreshMappingsOfRunAsync(Guid runId, DateTimeOffset now, CancellationToken ct) =>
        ExecuteAsync(RefreshSql("last_run_id = @run"), ct, ("now", dialect.Time(now)), ("run", runId));

    private static string RefreshSql(string where) => $"""
        UPDATE mappings SET (stage, status, last_job_id, items_done, items_total) = (
            SELECT j.kind, j.status, j.id, j.items_done, j.items_total FROM jobs j
            WHERE j.mapping_id = mappings.id AND j.run_id = mappings.last_run_id
            ORDER BY CASE j.status
                WHEN {(int)JobStatus.InProgress} THEN 0
                WHEN {(int)JobStatus.WaitingToStart} THEN 1 WHEN {(int)JobStatus.WaitingForDestination} THEN 1
                WHEN {(int)JobStatus.WaitingForPrerequisite} THEN 1 WHEN {(int)JobStatus.Scheduled} THEN 1
                WHEN {(int)JobStatus.Failed} THEN 2 WHEN {(int)JobStatus.Stopped} THEN 3 WHEN {(int)JobStatus.Exceptions} THEN 4
                ELSE 5 END, j.kind
            LIMIT 1),
          updated_at = @now
        WHERE {where} AND last_run_id IS NOT NULL
        """;

    private static string InList(IEnumerable<JobStatus> statuses) => string.Join(", ", statuses.Select(s => (int)s));

    internal async Task<int> ExecuteAsync(string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using var command = CreateCommand(sql, parameters);
        return await command.ExecuteNonQueryAsync(ct);
    }

    private async Task<T?> ScalarAsync<T>(string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using var command = CreateCommand(sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct) || await reader.IsDBNullAsync(0, ct))
        {
            return default;
        }
        var type = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        object value = type == typeof(Guid) ? dialect.ReadGuid(reader, 0) : type == typeof(bool) ? reader.GetBoolean(0) : reader.GetValue(0);
        return (T)value;
    }

    private DbCommand CreateCommand(string sql, (string Name, object? Value)[] parameters)
    {
        var connection = db.Database.GetDbConnection();
        var command = connection.CreateCommand();
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            dialect.Add(command, "@" + name, value);
        }
        return command;
    }
}
