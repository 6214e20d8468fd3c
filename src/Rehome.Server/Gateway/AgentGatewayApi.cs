using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;
using Rehome.Core.Connections;
using Rehome.Core.Mappings;
using Rehome.Core.Runs;
using Rehome.Protocol;
using Rehome.Security.Sids;
using Rehome.Server.Api;
using Rehome.Server.Audit;
using Rehome.Server.Directories;
using Rehome.Server.Runs;
using Rehome.Server.Secrets;
using Rehome.Server.Store;

namespace Rehome.Server.Gateway;

/// <summary>
/// /agent/v1: what devices call. Enrollment takes a configuration key and the proof of the device's key (see
/// <see cref="AgentEnrollment"/>); every other call takes the agent's own credential and reaches only that agent's
/// jobs: every write about a job must come from the agent that holds its lease, with the lease token.
/// </summary>
public static class AgentGatewayApi
{
    public const string EnrollmentRateLimit = "agent-enrollment";

    /// <summary>Carries the job's lease token on the calls without a body (the package download).</summary>
    public const string LeaseHeader = AgentProtocol.LeaseHeader;

    public static IEndpointRouteBuilder MapAgentGateway(this IEndpointRouteBuilder app)
    {
        var gateway = app.MapGroup(AgentProtocol.BasePath).WithTags("Agent gateway")
            .RequireAuthorization(AgentAuthenticationHandler.PolicyName);
        gateway.MapPost("/enroll", EnrollAsync).AllowAnonymous().RequireRateLimiting(EnrollmentRateLimit).WithName("EnrollAgent");
        gateway.MapPost("/identity", BindIdentityAsync).WithName("BindAgentIdentity");
        gateway.MapPost("/facts", ReportFactsAsync).WithName("ReportDeviceFacts");
        gateway.MapPost("/poll", PollAsync).WithName("PollForJob");
        gateway.MapPost("/jobs/{id:guid}/progress", ReportProgressAsync).WithName("ReportJobProgress");
        gateway.MapPost("/jobs/{id:guid}/log", UploadLogAsync).WithName("UploadJobLog");
        gateway.MapPost("/jobs/{id:guid}/sid-map", MapSidsAsync).WithName("MapJobSids");
        gateway.MapPost("/jobs/{id:guid}/directory-action", RunDirectoryActionAsync).WithName("RunJobDirectoryAction");
        gateway.MapPost("/jobs/{id:guid}/return-ticket", MakeReturnTicketAsync).WithName("MakeJobReturnTicket");
        gateway.MapGet("/jobs/{id:guid}/package/{purpose}", DownloadPackageAsync).WithName("DownloadJobPackage");
        gateway.MapPost("/jobs/{id:guid}/complete", CompleteAsync).WithName("CompleteJob");
        return app;
    }

    private static async Task<IResult> EnrollAsync(EnrollRequest? request, HttpContext http, AgentEnrollment enrollment, CancellationToken ct) =>
        (await enrollment.EnrollAsync(request, http.Connection.RemoteIpAddress?.ToString(), ct))
            .ToResult(done => done.Held ? Results.Json(done.Response, statusCode: StatusCodes.Status202Accepted) : Results.Ok(done.Response));

    private static async Task<IResult> BindIdentityAsync(BindIdentityRequest? request, HttpContext http, AgentEnrollment enrollment, CancellationToken ct) =>
        (await enrollment.BindKeyAsync(http.Agent().AgentId, request, http.Connection.RemoteIpAddress?.ToString(), ct)).ToResult(_ => Results.NoContent());

    private static async Task<IResult> ReportFactsAsync(DeviceFacts? facts, HttpContext http, RehomeDbContext db, CancellationToken ct)
    {
        var violations = AgentMessageRules.Check(facts);
        if (violations.Any)
        {
            return Problems.Validation(violations.Items);
        }
        var agent = await db.Agents.FirstAsync(a => a.Id == http.Agent().AgentId, ct);
        AgentEnrollment.Apply(agent, facts!);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    /// <summary>
    /// The long poll: answers at once with a job if one is startable, otherwise waits for its mapping's signal
    /// (no query while idle) up to <paramref name="wait"/> seconds, then answers 204.
    /// </summary>
    private static async Task<IResult> PollAsync(
        int? wait, HttpContext http, RehomeDbContext db, JobSignals signals, LeaseBatcher leases, IOptions<GatewayOptions> options, CancellationToken ct)
    {
        var entry = http.Agent();
        var waitFor = TimeSpan.FromSeconds(Math.Clamp(wait ?? 25, 0, AgentProtocol.MaxPollSeconds));
        var started = Stopwatch.GetTimestamp();
        var recheck = options.Value.RecheckInterval;
        while (true)
        {
            if (entry.Revoked)
            {
                return Results.Unauthorized();
            }
            if (entry.MappingId is null && Stopwatch.GetElapsedTime(entry.MappingCheckedAt) >= recheck)
            {
                entry.MappingId = await AgentEnrollment.MappingOfAsync(db, entry.DeviceKey, entry.ConnectionId, ct);
                entry.MappingCheckedAt = Stopwatch.GetTimestamp();
                if (entry.MappingId is { } found)
                {
                    // The device's mapping was imported after the agent enrolled: link them now.
                    await db.Mappings.Where(m => m.Id == found).ExecuteUpdateAsync(s => s.SetProperty(m => m.AgentId, entry.AgentId), ct);
                }
            }
            var generation = entry.MappingId is { } m ? signals.Generation(m) : 0;
            if (entry.MappingId is { } mappingId
                && (entry.CheckedGeneration != generation || Stopwatch.GetElapsedTime(entry.JobsCheckedAt) >= recheck))
            {
                entry.CheckedGeneration = generation;
                entry.JobsCheckedAt = Stopwatch.GetTimestamp();
                var assignment = await leases.LeaseAsync(mappingId, entry.AgentId, ct);
                if (assignment is not null)
                {
                    // The mapping may hold more startable jobs: the next poll looks again.
                    entry.CheckedGeneration = -1;
                    return Results.Ok(assignment);
                }
            }
            var remaining = waitFor - Stopwatch.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                return Results.NoContent();
            }
            if (entry.MappingId is { } waitingFor)
            {
                await signals.WaitAsync(waitingFor, generation, Min(remaining, recheck), ct);
            }
            else
            {
                await Task.Delay(Min(remaining, recheck), ct);
            }
        }
    }

    private static async Task<IResult> ReportProgressAsync(
        Guid id, ProgressReport? report, HttpContext http, RehomeDbContext db, JobTransitions transitions, IOptions<RunEngineOptions> runOptions,
        TimeProvider time, CancellationToken ct)
    {
        if (report is null)
        {
            return Problems.Validation("body", "Required", "A progress report is required.");
        }
        var violations = AgentMessageRules.Check(report);
        if (violations.Any)
        {
            return Problems.Validation(violations.Items);
        }
        var renewal = await transitions.RenewAsync(id, http.Agent().AgentId, report.LeaseToken, runOptions.Value.LeaseDuration,
            new JobProgress(report.ItemsDone, report.ItemsTotal, report.ItemsChanged, report.ItemsFailed, report.Step, report.Message, AreasOf(report.Areas)), ct);
        if (renewal == LeaseRenewal.Lost)
        {
            return LeaseLost(id);
        }
        if (report.Items is { Count: > 0 })
        {
            var now = time.GetUtcNow();
            db.JobItems.AddRange(report.Items.Select(i => new JobItem { JobId = id, Item = i.Item, Outcome = i.Outcome.ToString(), Error = i.Error, At = now }));
            await db.SaveChangesAsync(ct);
        }
        return Results.Ok(new ProgressAnswer(renewal == LeaseRenewal.StopRequested));
    }

    private static async Task<IResult> UploadLogAsync(Guid id, LogChunk? chunk, HttpContext http, RehomeDbContext db, SqlDialect dialect, CancellationToken ct)
    {
        if (chunk is null)
        {
            return Problems.Validation("body", "Required", "A log chunk is required.");
        }
        var violations = AgentMessageRules.Check(chunk);
        if (violations.Any)
        {
            return Problems.Validation(violations.Items);
        }
        var agentId = http.Agent().AgentId;
        var job = await db.Jobs.AsNoTracking().Where(j => j.Id == id && j.AgentId == agentId).Select(j => new { j.LeaseOwner, j.LeaseToken, j.Status }).FirstOrDefaultAsync(ct);
        if (job is null)
        {
            return Problems.NotFound($"Job {id} of this agent");
        }
        if (job.LeaseOwner != agentId || job.LeaseToken != chunk.LeaseToken || job.Status != JobStatus.InProgress)
        {
            // Only the lease holder writes about a job, its log too; a lapsed lease's token no longer does, even from the same agent.
            return LeaseLost(id);
        }
        // A chunk resent because its answer was lost (or raced in twice) is stored once: the unique index
        // (job, sequence, line) turns the repeat into nothing.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var connection = db.Database.GetDbConnection();
        await using var command = connection.CreateCommand();
        command.Transaction = transaction.GetDbTransaction();
        command.CommandText = """
            INSERT INTO job_log_lines (job_id, sequence, line_number, at, level, text) VALUES (@job, @sequence, @line, @at, @level, @text)
            ON CONFLICT (job_id, sequence, line_number) DO NOTHING
            """;
        dialect.Add(command, "@job", id);
        dialect.Add(command, "@sequence", chunk.Sequence);
        dialect.Add(command, "@line", 0);
        dialect.Add(command, "@at", dialect.Time(DateTimeOffset.UnixEpoch));
        dialect.Add(command, "@level", "");
        dialect.Add(command, "@text", "");
        for (var i = 0; i < chunk.Lines.Count; i++)
        {
            var line = chunk.Lines[i];
            command.Parameters["@line"].Value = i;
            command.Parameters["@at"].Value = dialect.Time(line.At);
            command.Parameters["@level"].Value = line.Level;
            command.Parameters["@text"].Value = line.Text;
            await command.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        return Results.NoContent();
    }

    private static async Task<IResult> MapSidsAsync(
        Guid id, SidMapRequest? request, HttpContext http, RehomeDbContext db, IMigrationDirectory directory, DirectoryRetries retries,
        CancellationToken ct)
    {
        if (request?.Sids is null)
        {
            return Problems.Validation("sids", "Required", "The SIDs to map are required.");
        }
        if (request.Sids.Count > SidMapRequest.MaxSids)
        {
            return Problems.Validation("sids", "TooMany", $"At most {SidMapRequest.MaxSids:N0} SIDs per request.");
        }
        var sids = new List<SecurityIdentifier>(request.Sids.Count);
        for (var i = 0; i < request.Sids.Count; i++)
        {
            if (!SecurityIdentifier.TryParse(request.Sids[i], out var sid))
            {
                return Problems.Validation($"sids[{i}]", "InvalidSid", $"SID {i} is not a SID in S-1-… form.");
            }
            sids.Add(sid!);
        }
        var held = await HeldJobAsync(db, id, http.Agent().AgentId, request.LeaseToken, ct);
        if (held is null)
        {
            return LeaseLost(id);
        }
        return await InDirectoryAsync(id, http, retries, async () => Results.Ok(await directory.MapSidsAsync(held.Project, held.Policy, sids, ct)),
            giveUp: reason => Problems.Rule(StatusCodes.Status422UnprocessableEntity, "Identities unavailable", "DirectoryUnavailable", reason));
    }

    private static async Task<IResult> RunDirectoryActionAsync(
        Guid id, DirectoryActionRequest? request, HttpContext http, RehomeDbContext db, IMigrationDirectory directory, DirectoryRetries retries,
        CancellationToken ct)
    {
        if (request is null)
        {
            return Problems.Validation("body", "Required", "A directory action request is required.");
        }
        if (AgentMessageRules.Check(request) is { Any: true } violations)
        {
            return Problems.Validation(violations.Items);
        }
        var held = await HeldJobAsync(db, id, http.Agent().AgentId, request.LeaseToken, ct);
        if (held is null)
        {
            return LeaseLost(id);
        }
        var expected = request.Action == DirectoryAction.MigrateEntraIdGroups ? JobKind.MigrateEntraIdGroups : JobKind.RegisterAutopilot;
        if (held.Kind != expected)
        {
            return Problems.Conflict("ActionNotForThisJob", $"{request.Action} belongs to a {expected.DisplayName()} job, not to a {held.Kind.DisplayName()} job.");
        }
        return await InDirectoryAsync(id, http, retries, async () => Results.Ok(await directory.RunActionAsync(held.Project, held.Mapping, request, ct)),
            giveUp: reason => Results.Ok(new DirectoryActionAnswer(DirectoryActionState.Failed, reason, [])));
    }

    /// <summary>
    /// The rejoin's way back into its source, made now (see <see cref="ReturnTickets"/>): 200 with the join data,
    /// 503 while the source directory is unreachable, 422 when it cannot be made (what to configure, in words).
    /// The answer is a secret: it is audited and logged without its data.
    /// </summary>
    private static async Task<IResult> MakeReturnTicketAsync(
        Guid id, ReturnTicketRequest? request, HttpContext http, RehomeDbContext db, ReturnTickets tickets, DirectoryRetries retries,
        AuditTrail audit, ILogger<ReturnTickets> logger, CancellationToken ct)
    {
        if (request is null)
        {
            return Problems.Validation("body", "Required", "A return ticket request is required.");
        }
        var violations = AgentMessageRules.Check(request);
        if (violations.Any)
        {
            return Problems.Validation(violations.Items);
        }
        var agentId = http.Agent().AgentId;
        var held = await HeldJobAsync(db, id, agentId, request.LeaseToken, ct);
        if (held is null)
        {
            return LeaseLost(id);
        }
        if (held.Kind != JobKind.RejoinDomain)
        {
            return Problems.Conflict("ReturnTicketNotForThisJob", $"A return ticket belongs to a Rejoin domain job, not to a {held.Kind.DisplayName()} job.");
        }
        var computerName = request.ComputerName.Trim();
        if (Mapping.KeyOf(computerName) != held.Mapping.SourceDeviceKey)
        {
            // Only the device's own account: a ticket for another name would hand over another computer's account.
            return Problems.Validation("computerName", "NotThisDevice",
                $"The return ticket is for the mapping's source device {held.Mapping.SourceDevice}, not for '{computerName}'.");
        }
        IResult Refused(string reason)
        {
            audit.Record("job.return-ticket.refused", $"job:{id}", $"{held.Mapping.SourceDevice} into '{held.Source.Name}': {reason}");
            logger.LogWarning("No return ticket for job {JobId} (mapping {MappingId}, agent {AgentId}): {Reason}", id, held.Mapping.Id, agentId, reason);
            return Problems.Rule(StatusCodes.Status422UnprocessableEntity, "Return ticket unavailable", "ReturnTicketUnavailable", reason);
        }
        var answer = await InDirectoryAsync(id, http, retries, async () =>
        {
            var (ticket, refusal) = await tickets.MakeAsync(id, held.Mapping, held.Source, computerName, ct);
            if (ticket is null)
            {
                return Refused(refusal!);
            }
            audit.Record("job.return-ticket", $"job:{id}", $"{held.Mapping.SourceDevice} back into '{held.Source.Name}' ({ticket.Kind})");
            logger.LogInformation("Made the return ticket of job {JobId} (mapping {MappingId}, agent {AgentId}) into {Source}",
                id, held.Mapping.Id, agentId, held.Source.Name);
            return Results.Ok(ticket);
        }, giveUp: Refused);
        await db.SaveChangesAsync(ct);
        return answer;
    }

    /// <summary>
    /// Streams a rejoin's provisioning package (Entra ID: the destination's, or the source's for the return
    /// ticket) to the agent holding the job's lease, given in the <c>X-Rehome-Lease</c> header.
    /// </summary>
    private static async Task<IResult> DownloadPackageAsync(
        Guid id, string purpose, HttpContext http, RehomeDbContext db, SecretProtector secrets, ILogger<ReturnTickets> logger, CancellationToken ct)
    {
        // By name only: Enum.TryParse would also take numbers and comma lists.
        var which = Enum.GetValues<JoinPurpose>().Select(p => (JoinPurpose?)p)
            .FirstOrDefault(p => string.Equals(p.ToString(), purpose, StringComparison.OrdinalIgnoreCase));
        if (which is null)
        {
            return Problems.Validation("purpose", "UnknownValue", "The purpose must be destination or return.");
        }
        if (!Guid.TryParse(http.Request.Headers[LeaseHeader].ToString(), out var leaseToken))
        {
            return Problems.Validation(LeaseHeader, "Required", $"The {LeaseHeader} header must carry the job's lease token.");
        }
        var agentId = http.Agent().AgentId;
        var held = await HeldJobAsync(db, id, agentId, leaseToken, ct);
        if (held is null)
        {
            return LeaseLost(id);
        }
        if (held.Kind != JobKind.RejoinDomain)
        {
            return Problems.Conflict("PackageNotForThisJob", $"A provisioning package belongs to a Rejoin domain job, not to a {held.Kind.DisplayName()} job.");
        }
        var connection = which == JoinPurpose.Destination ? held.Destination : held.Source;
        var package = connection.Kind == ConnectionKind.EntraId
            ? await db.ConnectionPackages.AsNoTracking().FirstOrDefaultAsync(p => p.ConnectionId == connection.Id, ct)
            : null;
        if (package is null)
        {
            return Problems.NotFound($"A provisioning package on the {which.Value.ToString().ToLowerInvariant()} connection '{connection.Name}'");
        }
        var content = secrets.UnprotectBytes(package.ProtectedContent);
        logger.LogInformation("Agent {AgentId} downloads the {Purpose} provisioning package of job {JobId} (mapping {MappingId}, {Bytes} bytes)",
            agentId, which, id, held.Mapping.Id, content.Length);
        return Results.File(content, "application/octet-stream");
    }

    /// <summary>
    /// Runs a directory call for a job. While the directory is unreachable the agent is told to come back later
    /// (503 with Retry-After; agents retry network failures with back-off); once the job has waited for the retry
    /// window, or the directory refuses for good (rights, configuration), <paramref name="giveUp"/> answers with the reason.
    /// </summary>
    private static async Task<IResult> InDirectoryAsync(Guid jobId, HttpContext http, DirectoryRetries retries, Func<Task<IResult>> call, Func<string, IResult> giveUp)
    {
        if (await retries.WaitLeftAsync(jobId, http.RequestAborted) is { } wait)
        {
            // Still backing off: the directory is not asked again before its time, however often agents call.
            return ComeBackLater(http, wait, "The directory was unreachable a moment ago.");
        }
        try
        {
            var result = await call();
            await retries.SucceededAsync(jobId, http.RequestAborted);
            return result;
        }
        catch (Exception e) when (e is Rehome.Directory.ActiveDirectory.ActiveDirectoryException or Rehome.Directory.EntraId.EntraIdException
            or DirectoryNotConfiguredException)
        {
            return giveUp(e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException || !http.RequestAborted.IsCancellationRequested)
        {
            // Unreachable, or failing in a way nobody classified: counted against the retry window, never retried blindly.
            var decision = await retries.FailedAsync(jobId, (e as Rehome.Directory.DirectoryUnavailableException)?.RetryAfter, CancellationToken.None);
            return decision.GiveUp
                ? giveUp($"The directory stayed unreachable for the whole retry window: {e.Message}")
                : ComeBackLater(http, decision.RetryAfter, e.Message);
        }
    }

    private static IResult ComeBackLater(HttpContext http, TimeSpan wait, string why)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Problems.Rule(StatusCodes.Status503ServiceUnavailable, "Directory unavailable", "DirectoryUnavailable", $"{why} Try again in {seconds} s.");
    }

    private static async Task<IResult> CompleteAsync(Guid id, CompletionReport? report, HttpContext http, JobTransitions transitions, CancellationToken ct)
    {
        if (report is null)
        {
            return Problems.Validation("body", "Required", "A completion report is required.");
        }
        var violations = AgentMessageRules.Check(report);
        if (violations.Any)
        {
            return Problems.Validation(violations.Items);
        }
        var status = report.Status switch
        {
            CompletionStatus.Finished => JobStatus.Finished,
            CompletionStatus.Exceptions => JobStatus.Exceptions,
            CompletionStatus.Stopped => JobStatus.Stopped,
            _ => JobStatus.Failed,
        };
        var completed = await transitions.CompleteAsync(id, http.Agent().AgentId, report.LeaseToken, new JobCompletion(status,
            new JobProgress(report.ItemsDone, report.ItemsTotal, report.ItemsChanged, report.ItemsFailed, Areas: AreasOf(report.Areas)),
            report.ErrorCode, report.ErrorMessage), ct);
        return completed ? Results.NoContent() : LeaseLost(id);
    }

    /// <summary>The agent's area counts (checked by <see cref="AgentMessageRules"/>) as the job stores them.</summary>
    private static List<JobAreaCount>? AreasOf(IReadOnlyList<AreaCount>? areas) =>
        areas is { Count: > 0 } ? [.. areas.Select(a => new JobAreaCount(a.Area.ToString(), a.Seen, a.Changed, a.Failed, a.Problem))] : null;

    private sealed record HeldJob(
        JobKind Kind, Core.Mappings.Mapping Mapping, Core.Projects.Project Project, Core.Policies.PolicySettings Policy, Connection Source, Connection Destination);

    private static Task<HeldJob?> HeldJobAsync(RehomeDbContext db, Guid jobId, Guid agentId, Guid leaseToken, CancellationToken ct) => (
        from j in db.Jobs.AsNoTracking()
        join m in db.Mappings.AsNoTracking() on j.MappingId equals m.Id
        join p in db.Projects.AsNoTracking() on m.ProjectId equals p.Id
        join policy in db.Policies.AsNoTracking() on p.PolicyId equals policy.Id
        join s in db.Connections.AsNoTracking() on p.SourceConnectionId equals s.Id
        join d in db.Connections.AsNoTracking() on p.DestinationConnectionId equals d.Id
        where j.Id == jobId && j.LeaseOwner == agentId && j.LeaseToken == leaseToken && j.Status == JobStatus.InProgress
        select new HeldJob(j.Kind, m, p, policy.Settings, s, d)).FirstOrDefaultAsync(ct);

    private static IResult LeaseLost(Guid id) => Problems.Conflict("LeaseLost",
        $"This agent does not hold job {id} (its lease lapsed, it was taken over or stopped, or it is another agent's job); stop working on it.");

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
