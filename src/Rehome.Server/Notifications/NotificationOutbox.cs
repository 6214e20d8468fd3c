using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Rehome.Core.Agents;
using Rehome.Core.Runs;
using Rehome.Server.Console.Shared;
using Rehome.Server.Directories;
using Rehome.Server.Store;

namespace Rehome.Server.Notifications;

/// <summary>
/// Records events where they happen: one call at each call site, inside its transaction where it has one (a job's
/// end is told exactly when it is committed). An event that no enabled subscription hears of is not written.
/// </summary>
public sealed class NotificationOutbox(RehomeDbContext db, StoreCommands store, TimeProvider time)
{
    /// <summary>The enabled subscriptions, read once per unit of work (a tick, a request): a handful of rows.</summary>
    private List<NotificationSubscription>? subscriptions;

    private async Task<bool> HeardAsync(NotificationEventKind kind, Guid? projectId, CancellationToken ct)
    {
        subscriptions ??= await db.NotificationSubscriptions.AsNoTracking().Where(s => s.Enabled).ToListAsync(ct);
        return subscriptions.Any(s => s.Hears(kind, projectId));
    }

    private async Task<bool> AnyHearsAsync(NotificationEventKind kind, CancellationToken ct)
    {
        subscriptions ??= await db.NotificationSubscriptions.AsNoTracking().Where(s => s.Enabled).ToListAsync(ct);
        return subscriptions.Any(s => s.Enabled && s.Events.Contains(kind));
    }

    /// <summary>Writes an event in the current transaction (hand-written SQL, so that nothing else the unit of work tracks is saved with it).</summary>
    public async Task RecordAsync(NotificationEventKind kind, Guid? projectId, NotificationEventData data, CancellationToken ct)
    {
        if (!await HeardAsync(kind, projectId, ct))
        {
            return;
        }
        await store.ExecuteAsync(
            "INSERT INTO notification_events (kind, project_id, occurred_at, data, distributed) VALUES (@kind, @project, @at, @data, @no)", ct,
            ("kind", kind.ToString()), ("project", projectId), ("at", store.Dialect.Time(time.GetUtcNow())),
            ("data", JsonSerializer.Serialize(data, NotificationMessage.Json)), ("no", false));
    }

    /// <summary>Adds an event to the unit of work: saved by the caller's next SaveChanges, with its change.</summary>
    public async Task AddAsync(NotificationEventKind kind, Guid? projectId, NotificationEventData data, CancellationToken ct)
    {
        if (await HeardAsync(kind, projectId, ct))
        {
            db.NotificationEvents.Add(new NotificationEvent
            {
                Kind = kind,
                ProjectId = projectId,
                OccurredAt = time.GetUtcNow(),
                Data = JsonSerializer.Serialize(data, NotificationMessage.Json),
            });
        }
    }

    /// <summary>A job is over (in its transaction): it and the dependents it failed are told when Failed.</summary>
    public async Task JobOverAsync(Guid jobId, JobStatus status, CancellationToken ct)
    {
        if (status != JobStatus.Failed || !(await AnyHearsAsync(NotificationEventKind.JobFailed, ct) || await AnyHearsAsync(NotificationEventKind.AgentOfflineDuringRun, ct)))
        {
            return;
        }
        // Over, so rows (StoredJobs), and so are the dependents it failed (a run item's jobs become rows together).
        var failed = await (
                from j in db.StoredJobs.AsNoTracking()
                where (j.Id == jobId || j.PrerequisiteJobId == jobId) && j.Status == JobStatus.Failed
                join m in db.StoredMappings on j.MappingId equals m.Id
                join p in db.Projects on j.ProjectId equals p.Id
                select new { j.Id, j.RunId, j.ProjectId, ProjectName = p.Name, m.SourceDevice, j.Kind, j.ErrorCode, j.ErrorMessage })
            .ToListAsync(ct);
        foreach (var job in failed)
        {
            var data = new NotificationEventData($"{job.Kind.DisplayName()} failed on {job.SourceDevice}", job.ProjectName, job.RunId, job.Id,
                job.SourceDevice, job.Kind.ToString(), job.ErrorCode ?? "Failed", job.ErrorMessage, Labels.Advice(JobStatus.Failed, job.ErrorCode));
            await RecordAsync(NotificationEventKind.JobFailed, job.ProjectId, data, ct);
            if (job.ErrorCode == JobErrorCodes.DeviceOffline)
            {
                await RecordAsync(NotificationEventKind.AgentOfflineDuringRun, job.ProjectId, data with { Summary = $"{job.SourceDevice} is offline" }, ct);
            }
        }
    }

    /// <summary>A running job's lease lapsed (in its transaction): its agent stopped answering.</summary>
    public async Task LeaseLapsedAsync(Guid jobId, ServerOutcome outcome, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.Status == JobStatus.Stopped || !await AnyHearsAsync(NotificationEventKind.AgentOfflineDuringRun, ct))
        {
            return;
        }
        var job = await JobAsync(jobId, ct);
        if (job is not null)
        {
            await RecordAsync(NotificationEventKind.AgentOfflineDuringRun, job.ProjectId, job.Data($"The agent of {job.Device} stopped answering during {job.KindName}",
                outcome.Code, outcome.Message, "Check that the device is on and its agent runs; the job returns to its queue or fails as its message says."), ct);
        }
    }

    /// <summary>A destination could not be prepared and is tried again later (in its transaction).</summary>
    public async Task PreparationFailingAsync(Guid jobId, string message, CancellationToken ct)
    {
        if (!await AnyHearsAsync(NotificationEventKind.DestinationPreparationFailing, ct))
        {
            return;
        }
        var job = await JobAsync(jobId, ct);
        if (job is not null)
        {
            await RecordAsync(NotificationEventKind.DestinationPreparationFailing, job.ProjectId, job.Data($"Provisioning {job.Device} in the destination failed",
                DirectoryFailures.UnavailableCode, message, "Check that the destination's domain controller or tenant is reachable from the server."), ct);
        }
    }

    /// <summary>An enrollment was held for approval (saved with the held agent).</summary>
    public async Task EnrollmentHeldAsync(DeviceAgent agent, string reason, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(agent);
        if (!await AnyHearsAsync(NotificationEventKind.DeviceAwaitingApproval, ct))
        {
            return;
        }
        var project = await (from m in db.StoredMappings.AsNoTracking()
                             join p in db.Projects on m.ProjectId equals p.Id
                             where m.SourceDeviceKey == agent.DeviceKey && p.SourceConnectionId == agent.ConnectionId
                             select new { p.Id, p.Name }).FirstOrDefaultAsync(ct);
        await AddAsync(NotificationEventKind.DeviceAwaitingApproval, project?.Id, new NotificationEventData(
            $"An enrollment for {agent.DeviceName} waits for approval", project?.Name, Device: agent.DeviceName, Reason: "EnrollmentHeld", Message: reason,
            Advice: "On the Agents page, approve it if the device was reinstalled or replaced; refuse it otherwise."), ct);
    }

    /// <summary>A connection test failed (saved with its audit entry): told to each project that uses the connection.</summary>
    public async Task ConnectionTestFailedAsync(ConnectionTestReport report, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.Succeeded || !await AnyHearsAsync(NotificationEventKind.ConnectionTestFailed, ct))
        {
            return;
        }
        var failing = report.Parts.SelectMany(p => p.Checks.Where(c => !c.Passed).Select(c => $"{p.Part}: {c.Name}: {c.Detail}")).Take(5).ToList();
        var data = new NotificationEventData($"The test of connection {report.ConnectionName} failed", Connection: report.ConnectionName,
            Reason: "ConnectionTestFailed", Message: string.Join("; ", failing), Advice: "Open the connection, fix what the failing checks name, and test it again.");
        await ForProjectsOfConnectionAsync(report.ConnectionId, NotificationEventKind.ConnectionTestFailed, data, (k, p, d) => AddAsync(k, p, d, ct), ct);
    }

    /// <summary>An event about a connection goes to each project that uses it (or to no project when none does).</summary>
    internal async Task ForProjectsOfConnectionAsync(
        Guid connectionId, NotificationEventKind kind, NotificationEventData data, Func<NotificationEventKind, Guid?, NotificationEventData, Task> record, CancellationToken ct)
    {
        var projects = await db.Projects.AsNoTracking().Where(p => p.SourceConnectionId == connectionId || p.DestinationConnectionId == connectionId)
            .Select(p => new { p.Id, p.Name }).ToListAsync(ct);
        if (projects.Count == 0)
        {
            await record(kind, null, data);
        }
        foreach (var project in projects)
        {
            await record(kind, project.Id, data with { ProjectName = project.Name });
        }
    }

    private sealed record JobFacts(Guid Id, Guid RunId, Guid ProjectId, string ProjectName, string Device, JobKind Kind)
    {
        public string KindName => Kind.DisplayName();

        public NotificationEventData Data(string summary, string? reason, string? message, string? advice) =>
            new(summary, ProjectName, RunId, Id, Device, Kind.ToString(), reason, message, advice);
    }

    /// <summary>A job that lapsed or waits for its destination: a row (StoredJobs).</summary>
    private Task<JobFacts?> JobAsync(Guid jobId, CancellationToken ct) => (
            from j in db.StoredJobs.AsNoTracking()
            where j.Id == jobId
            join m in db.StoredMappings on j.MappingId equals m.Id
            join p in db.Projects on j.ProjectId equals p.Id
            select new JobFacts(j.Id, j.RunId, j.ProjectId, p.Name, m.SourceDevice, j.Kind))
        .FirstOrDefaultAsync(ct);
}
