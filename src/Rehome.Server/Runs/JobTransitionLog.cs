using Rehome.Core.Runs;

namespace Rehome.Server.Runs;

/// <summary>
/// The log lines of job transitions: one Information line per move (Debug for a lease renewal, Warning for a lapse), inside a
/// scope that carries the ids a reader filters by, so that a job's life can be followed in any log sink.
/// </summary>
public sealed class JobTransitionLog(ILogger<JobTransitions> logger)
{
    /// <summary>The scope keys; sinks that keep scopes (JSON console, OpenTelemetry) show them as fields.</summary>
    public const string RunId = "RunId", JobId = "JobId", MappingId = "MappingId", AgentId = "AgentId";

    /// <summary>A scope with the ids known for one job (unknown ones are left out).</summary>
    public IDisposable? Job(Guid? runId, Guid jobId, Guid? mappingId, Guid? agentId)
    {
        var state = new Dictionary<string, object?> { [JobId] = jobId };
        Add(state, RunId, runId);
        Add(state, MappingId, mappingId);
        Add(state, AgentId, agentId);
        return logger.BeginScope(state);
    }

    /// <summary>A scope for a move of many jobs of one run.</summary>
    public IDisposable? Run(Guid runId) => logger.BeginScope(new Dictionary<string, object?> { [RunId] = runId });

    public void Leased(Job job) =>
        logger.LogInformation("Job {JobKind} leased (attempt {Attempt})", job.Kind, job.Attempts);

    public void LeaseSentAgain(Job job) =>
        logger.LogInformation("Job {JobKind} sent again (attempt {Attempt}, a new lease token, lease until {LeaseExpiresAt}): its agent polled without it, so the answer that leased it never arrived", job.Kind, job.Attempts, job.LeaseExpiresAt);

    public void GivenBack() =>
        logger.LogInformation("Job lease given back: its poll went away before the answer; the job waits for the next poll");

    public void Renewed(LeaseRenewal renewal, int itemsDone, int itemsTotal) =>
        logger.LogDebug("Job lease renewal: {Renewal}, {ItemsDone}/{ItemsTotal} items", renewal, itemsDone, itemsTotal);

    public void Completed(JobCompletion completion) =>
        logger.LogInformation("Job completed {Status}{ErrorCode}: {ItemsDone}/{ItemsTotal} items, {ItemsFailed} failed",
            completion.Status, completion.ErrorCode is { } code ? $" ({code})" : "", completion.Progress.ItemsDone,
            completion.Progress.ItemsTotal, completion.Progress.ItemsFailed);

    /// <summary>
    /// A warning: the job runs again (or ends) because its agent went silent, which an operator wants to see.
    /// <paramref name="lastUpdate"/> is the job row's last change: a report, the lease itself, a resend of it or a stop request.
    /// </summary>
    public void LeaseLapsed(JobKind kind, int attempt, DateTimeOffset lastUpdate, DateTimeOffset? expiredAt, DateTimeOffset? agentLastSeen, ServerOutcome outcome) =>
        logger.LogWarning("Job {JobKind} lease lapsed at {LeaseExpiresAt:O} (attempt {Attempt}, job last updated {LastUpdate:O}, agent last seen {AgentLastSeen:O}): now {Status} ({ErrorCode})",
            kind, expiredAt, attempt, lastUpdate, agentLastSeen, outcome.Status, outcome.Code);

    public void DeviceOffline(ServerOutcome outcome) =>
        logger.LogInformation("Job failed: {ErrorCode}: {Message}", outcome.Code, outcome.Message);

    public void StoppedNow(string actor) => logger.LogInformation("Job stopped by {Actor}", actor);

    public void StopRequested(string actor) => logger.LogInformation("Job stop requested by {Actor}; its agent stops it", actor);

    public void RunStopped(string actor, int stoppedNow, int stopRequested) =>
        logger.LogInformation("Run stopped by {Actor}: {StoppedNow} job(s) stopped, {StopRequested} asked to stop", actor, stoppedNow, stopRequested);

    public void SelectionStopped(string actor, int mappings, int stoppedNow, int stopRequested) =>
        logger.LogInformation("Jobs of {MappingCount} selected mapping(s) stopped by {Actor}: {StoppedNow} job(s) stopped, {StopRequested} asked to stop",
            mappings, actor, stoppedNow, stopRequested);

    public void RunReleased(int jobs) => logger.LogInformation("Scheduled run released: {JobCount} job(s)", jobs);

    public void Prepared(string? failureCode)
    {
        if (failureCode is null)
        {
            logger.LogInformation("Job destination prepared: waiting to start");
        }
        else
        {
            logger.LogInformation("Job destination preparation failed ({ErrorCode})", failureCode);
        }
    }

    public void Dependents(JobStatus prerequisite, JobStatus dependents, int count)
    {
        if (count > 0)
        {
            logger.LogInformation("Job over as {Prerequisite}: {Count} dependent job(s) now {Status}", prerequisite, count, dependents);
        }
    }

    private static void Add(Dictionary<string, object?> state, string key, Guid? value)
    {
        if (value is { } id)
        {
            state[key] = id;
        }
    }
}
