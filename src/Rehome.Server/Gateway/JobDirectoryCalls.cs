using Microsoft.EntityFrameworkCore;
using Rehome.Core.Connections;
using Rehome.Core.Mappings;
using Rehome.Core.Runs;
using Rehome.Protocol;
using Rehome.Security.Sids;
using Rehome.Server.Administration;
using Rehome.Server.Audit;
using Rehome.Server.Directories;
using Rehome.Server.Observability;
using Rehome.Server.Secrets;
using Rehome.Server.Store;

namespace Rehome.Server.Gateway;

/// <summary>
/// What an agent asks the directories (and the server's secrets) for during a job it holds: the SID map, a directory
/// action, the rejoin's return ticket and provisioning package. While a directory is unreachable the agent is told
/// to come back later (503 with Retry-After); once the job has waited for the retry window, or the directory
/// refuses for good, the answer carries the reason (see <see cref="DirectoryFailures"/>).
/// </summary>
public sealed class JobDirectoryCalls(
    RehomeDbContext db, IMigrationDirectory directory, DirectoryRetries retries, ReturnTickets tickets, AuditTrail audit, SecretProtector secrets,
    RehomeTelemetry telemetry, GatewayTurn turn, ILogger<ReturnTickets> logger)
{
    /// <summary>The extension of a 503 answer that says how many seconds to wait (the endpoint sends it as Retry-After).</summary>
    public const string RetryAfterExtension = "retryAfter";

    public async Task<Outcome<SidMapAnswer>> MapSidsAsync(Guid jobId, Guid agentId, SidMapRequest? request, CancellationToken ct)
    {
        if (request?.Sids is null)
        {
            return Failure.Validation("sids", "Required", "The SIDs to map are required.");
        }
        if (request.Sids.Count > SidMapRequest.MaxSids)
        {
            return Failure.Validation("sids", "TooMany", $"At most {SidMapRequest.MaxSids:N0} SIDs per request.");
        }
        var sids = new List<SecurityIdentifier>(request.Sids.Count);
        for (var i = 0; i < request.Sids.Count; i++)
        {
            if (!SecurityIdentifier.TryParse(request.Sids[i], out var sid))
            {
                return Failure.Validation($"sids[{i}]", "InvalidSid", $"SID {i} is not a SID in S-1-… form.");
            }
            sids.Add(sid!);
        }
        var held = await HeldJobAsync(jobId, agentId, request.LeaseToken, ct);
        if (held is null)
        {
            return JobReports.LeaseLost(jobId);
        }
        return await InDirectoryAsync<SidMapAnswer>("MapJobSids", jobId, async () => await directory.MapSidsAsync(held.Project, held.Policy, sids, ct),
            giveUp: reason => Failure.ByRule(StatusCodes.Status422UnprocessableEntity, "Identities unavailable", DirectoryFailures.UnavailableCode, reason), ct);
    }

    public async Task<Outcome<DirectoryActionAnswer>> RunActionAsync(Guid jobId, Guid agentId, DirectoryActionRequest? request, CancellationToken ct)
    {
        if (request is null)
        {
            return Failure.Validation("body", "Required", "A directory action request is required.");
        }
        if (AgentMessageRules.Check(request) is { Any: true } violations)
        {
            return Failure.Validation(violations.Items);
        }
        var held = await HeldJobAsync(jobId, agentId, request.LeaseToken, ct);
        if (held is null)
        {
            return JobReports.LeaseLost(jobId);
        }
        var expected = request.Action == DirectoryAction.MigrateEntraIdGroups ? JobKind.MigrateEntraIdGroups : JobKind.RegisterAutopilot;
        if (held.Kind != expected)
        {
            return Failure.Conflict("ActionNotForThisJob", $"{request.Action} belongs to a {expected.DisplayName()} job, not to a {held.Kind.DisplayName()} job.");
        }
        return await InDirectoryAsync<DirectoryActionAnswer>("RunJobDirectoryAction", jobId, async () => await directory.RunActionAsync(jobId, held.Project, held.Mapping, request, ct),
            giveUp: reason => new DirectoryActionAnswer(DirectoryActionState.Failed, reason, []), ct);
    }

    /// <summary>
    /// The rejoin's way back into its source, made now (see <see cref="ReturnTickets"/>): the join data, 503 while the
    /// source directory is unreachable, 422 when it cannot be made (what to configure, in words). The answer is a
    /// secret: it is audited and logged without its data.
    /// </summary>
    public async Task<Outcome<DestinationJoin>> MakeReturnTicketAsync(Guid jobId, Guid agentId, ReturnTicketRequest? request, CancellationToken ct)
    {
        if (request is null)
        {
            return Failure.Validation("body", "Required", "A return ticket request is required.");
        }
        if (AgentMessageRules.Check(request) is { Any: true } violations)
        {
            return Failure.Validation(violations.Items);
        }
        var held = await HeldJobAsync(jobId, agentId, request.LeaseToken, ct);
        if (held is null)
        {
            return JobReports.LeaseLost(jobId);
        }
        if (held.Kind != JobKind.RejoinDomain)
        {
            return Failure.Conflict("ReturnTicketNotForThisJob", $"A return ticket belongs to a Rejoin domain job, not to a {held.Kind.DisplayName()} job.");
        }
        var computerName = request.ComputerName.Trim();
        if (Mapping.KeyOf(computerName) != held.Mapping.SourceDeviceKey)
        {
            // Only the device's own account: a ticket for another name would hand over another computer's account.
            return Failure.Validation("computerName", "NotThisDevice",
                $"The return ticket is for the mapping's source device {held.Mapping.SourceDevice}, not for '{computerName}'.");
        }
        Failure Refused(string reason)
        {
            audit.Record("job.return-ticket.refused", $"job:{jobId}", $"{held.Mapping.SourceDevice} into '{held.Source.Name}': {reason}");
            logger.LogWarning("No return ticket for job {JobId} (mapping {MappingId}, agent {AgentId}): {Reason}", jobId, held.Mapping.Id, agentId, reason);
            return Failure.ByRule(StatusCodes.Status422UnprocessableEntity, "Return ticket unavailable", "ReturnTicketUnavailable", reason);
        }
        var answer = await InDirectoryAsync<DestinationJoin>("MakeJobReturnTicket", jobId, async () =>
        {
            var (ticket, refusal) = await tickets.MakeAsync(jobId, held.Mapping, held.Source, computerName, ct);
            if (ticket is null)
            {
                return Refused(refusal!);
            }
            audit.Record("job.return-ticket", $"job:{jobId}", $"{held.Mapping.SourceDevice} back into '{held.Source.Name}' ({ticket.Kind})");
            logger.LogInformation("Made the return ticket of job {JobId} (mapping {MappingId}, agent {AgentId}) into {Source}",
                jobId, held.Mapping.Id, agentId, held.Source.Name);
            return ticket;
        }, giveUp: reason => Refused(reason), ct);
        await db.SaveChangesRegardlessAsync();
        return answer;
    }

    /// <summary>
    /// A rejoin's provisioning package (Entra ID: the destination's, or the source's for the return ticket) for the
    /// agent holding the job's lease.
    /// </summary>
    public async Task<Outcome<byte[]>> PackageAsync(Guid jobId, Guid agentId, string purpose, string? leaseHeader, CancellationToken ct)
    {
        // By name only: Enum.TryParse would also take numbers and comma lists.
        var which = Enum.GetValues<JoinPurpose>().Select(p => (JoinPurpose?)p)
            .FirstOrDefault(p => string.Equals(p.ToString(), purpose, StringComparison.OrdinalIgnoreCase));
        if (which is null)
        {
            return Failure.Validation("purpose", "UnknownValue", "The purpose must be destination or return.");
        }
        if (!Guid.TryParse(leaseHeader, out var leaseToken))
        {
            return Failure.Validation(AgentProtocol.LeaseHeader, "Required", $"The {AgentProtocol.LeaseHeader} header must carry the job's lease token.");
        }
        var held = await HeldJobAsync(jobId, agentId, leaseToken, ct);
        if (held is null)
        {
            return JobReports.LeaseLost(jobId);
        }
        if (held.Kind != JobKind.RejoinDomain)
        {
            return Failure.Conflict("PackageNotForThisJob", $"A provisioning package belongs to a Rejoin domain job, not to a {held.Kind.DisplayName()} job.");
        }
        var connection = which == JoinPurpose.Destination ? held.Destination : held.Source;
        var package = connection.Kind == ConnectionKind.EntraId
            ? await db.ConnectionPackages.AsNoTracking().FirstOrDefaultAsync(p => p.ConnectionId == connection.Id, ct)
            : null;
        if (package is null)
        {
            return Failure.NotFound($"A provisioning package on the {which.Value.ToString().ToLowerInvariant()} connection '{connection.Name}'");
        }
        var content = secrets.UnprotectBytes(package.ProtectedContent);
        logger.LogInformation("Agent {AgentId} downloads the {Purpose} provisioning package of job {JobId} (mapping {MappingId}, {Bytes} bytes)",
            agentId, which, jobId, held.Mapping.Id, content.Length);
        return content;
    }

    /// <summary>
    /// Runs a directory call for a job. Not before the job's back-off allows (however often agents call); a refusal
    /// gives up at once; anything else is counted against the retry window, never retried blindly.
    /// </summary>
    private async Task<Outcome<T>> InDirectoryAsync<T>(string operation, Guid jobId, Func<Task<Outcome<T>>> call, Func<string, Outcome<T>> giveUp, CancellationToken ct)
    {
        if (await retries.WaitLeftAsync(jobId, ct) is { } wait)
        {
            return ComeBackLater(wait, "The directory was unreachable a moment ago.");
        }
        Outcome<T> result;
        try
        {
            // The directory may take long (an Autopilot import, a DC far away): the agents' share of the store is not held meanwhile.
            result = await turn.AwayAsync(() => telemetry.DirectoryCallAsync(operation, jobId, null, call), ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            var failure = DirectoryFailures.Classify(e);
            if (failure.Kind == DirectoryFailureKind.Refused)
            {
                return giveUp(failure.Reason);
            }
            if (failure.Kind == DirectoryFailureKind.Defect)
            {
                logger.LogError(e, "A directory call for job {JobId} failed in a way nobody classified; counted against its retry window", jobId);
            }
            var decision = await retries.FailedAsync(jobId, failure.RetryAfter, CancellationToken.None);
            return decision.GiveUp
                ? giveUp($"The directory stayed unreachable for the whole retry window: {failure.Reason}")
                : ComeBackLater(decision.RetryAfter, failure.Reason);
        }
        // Outside the classification: a store error here is not the directory's, and the answer it gave (a return ticket
        // made by resetting the computer's password, say) stands; the back-off is cleared by the next success instead.
        try
        {
            await retries.SucceededAsync(jobId, CancellationToken.None);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or DbUpdateException)
        {
            logger.LogWarning("Job {JobId}: the directory answered but its back-off could not be cleared in the store ({Error})", jobId, e.GetType().Name);
        }
        return result;
    }

    private static Failure ComeBackLater(TimeSpan wait, string why)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        return Failure.ByRule(StatusCodes.Status503ServiceUnavailable, "Directory unavailable", DirectoryFailures.UnavailableCode, $"{why} Try again in {seconds} s.",
            new Dictionary<string, object?> { [RetryAfterExtension] = seconds });
    }

    private sealed record HeldJob(
        JobKind Kind, Mapping Mapping, Core.Projects.Project Project, Core.Policies.PolicySettings Policy, Connection Source, Connection Destination);

    private Task<HeldJob?> HeldJobAsync(Guid jobId, Guid agentId, Guid leaseToken, CancellationToken ct) => HeldJobQuery.For(db)(db, jobId, agentId, leaseToken, ct);

    // Compiled once: every directory call of every job asks it, and building its five joins' expression tree and
    // finding it in EF's query cache cost more than running it (8 % of the server's CPU in a 2,000-device rehearsal).
    private static readonly CompiledPerModel<Func<RehomeDbContext, Guid, Guid, Guid, CancellationToken, Task<HeldJob?>>> HeldJobQuery = new(() => EF.CompileAsyncQuery(
        (RehomeDbContext db, Guid jobId, Guid agentId, Guid leaseToken, CancellationToken ct) => (
            from j in db.StoredJobs.AsNoTracking()
            join m in db.StoredMappings.AsNoTracking() on j.MappingId equals m.Id
            join p in db.Projects.AsNoTracking() on m.ProjectId equals p.Id
            join policy in db.Policies.AsNoTracking() on p.PolicyId equals policy.Id
            join s in db.Connections.AsNoTracking() on p.SourceConnectionId equals s.Id
            join d in db.Connections.AsNoTracking() on p.DestinationConnectionId equals d.Id
            where j.Id == jobId && j.LeaseOwner == agentId && j.LeaseToken == leaseToken && j.Status == JobStatus.InProgress
            select new HeldJob(j.Kind, m, p, policy.Settings, s, d)).FirstOrDefault()));
}
