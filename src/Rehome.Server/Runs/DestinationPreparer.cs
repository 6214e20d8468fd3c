using Microsoft.EntityFrameworkCore;
using Rehome.Core.Runs;
using Rehome.Server.Directories;
using Rehome.Server.Directories.Connected;
using Rehome.Server.Observability;
using Rehome.Server.Secrets;
using Rehome.Server.Store;

namespace Rehome.Server.Runs;

/// <summary>
/// Prepares the destination of rejoin jobs that wait for it (computer object, offline join data), then lets
/// them start, or fails them with the directory's reason. Runs on the engine's tick. Each job is claimed first
/// (one conditional UPDATE), so two ticks or replicas never provision the same computer; a job whose directory
/// is unreachable waits out its back-off in the store and fails once the retry window is spent.
/// </summary>
public sealed class DestinationPreparer(
    RehomeDbContext db, JobTransitions transitions, IMigrationDirectory directory, DirectoryRetries retries, ConnectedDirectoryOptions options,
    SecretProtector secrets, TimeProvider time, ILogger<DestinationPreparer> logger, RehomeTelemetry telemetry)
{
    public const int BatchSize = 500;

    /// <summary>How long one claim holds a job: longer than any provisioning takes.</summary>
    public static readonly TimeSpan ClaimDuration = Hosting.ServerTimings.PreparationClaim;

    /// <summary>Returns how many jobs left Waiting for destination.</summary>
    public async Task<int> PrepareWaitingAsync(CancellationToken ct)
    {
        if (directory is NotConnectedDirectory)
        {
            return 0;
        }
        // The directory work (LDAP, offline join provisioning) runs a few at a time, in small rounds so that the
        // first jobs start while later ones are still being provisioned.
        var concurrency = Math.Max(1, options.ProvisioningConcurrency);
        var now = time.GetUtcNow();
        if (!await EngineIdleChecks.AnyDestinationWaiting.For(db)(db, now, ct))
        {
            // Every tick asks; an idle one builds none of the query below.
            return 0;
        }
        var waiting = await (
            // A job waiting for its destination is a row (run items never need preparation): read the table.
            from j in db.StoredJobs.AsNoTracking()
            join m in db.StoredMappings.AsNoTracking() on j.MappingId equals m.Id
            join p in db.Projects.AsNoTracking() on m.ProjectId equals p.Id
            join d in db.Connections.AsNoTracking() on p.DestinationConnectionId equals d.Id
            join policy in db.Policies.AsNoTracking() on p.PolicyId equals policy.Id
            where j.Status == JobStatus.WaitingForDestination && (j.LeaseExpiresAt == null || j.LeaseExpiresAt < now)
            orderby j.CreatedAt
            select new { JobId = j.Id, Mapping = m, Project = p, Destination = d, policy.Settings }).Take(concurrency * 4).ToListAsync(ct);
        var claimed = new List<(Guid JobId, DestinationRequest Request)>();
        foreach (var job in waiting)
        {
            if (await transitions.ClaimPreparationAsync(job.JobId, now + ClaimDuration, ct))
            {
                claimed.Add((job.JobId, new DestinationRequest(job.JobId, job.Mapping, job.Project, job.Destination, job.Settings)));
            }
        }
        // Each result is written as soon as it comes (one writer at a time on this scope's store), and written even
        // when the server is stopping: a computer account made must not lose its join data.
        var moved = 0;
        using var span = RehomeTelemetry.StartDestinationPreparation(claimed.Count);
        using var writer = new SemaphoreSlim(1, 1);
        await Parallel.ForEachAsync(claimed, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = ct }, async (job, token) =>
        {
            DestinationPreparation? prepared = null;
            Exception? error = null;
            try
            {
                prepared = await telemetry.DirectoryCallAsync("PrepareDestination", job.JobId, job.Request.Mapping.Id, () => directory.PrepareDestinationAsync(job.Request, token));
            }
            catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
            {
                error = e;
            }
            await writer.WaitAsync(CancellationToken.None);
            try
            {
                moved += await RecordAsync(job.JobId, job.Request.Mapping, prepared, error) ? 1 : 0;
            }
            finally
            {
                writer.Release();
            }
        });
        return moved;
    }

    private async Task<bool> RecordAsync(Guid jobId, Core.Mappings.Mapping mapping, DestinationPreparation? prepared, Exception? error)
    {
        var ct = CancellationToken.None;
        var failure = error is null ? null : DirectoryFailures.Classify(error);
        if (failure is { Kind: DirectoryFailureKind.Refused })
        {
            // Rights, credentials, certificate, configuration: waiting will not change them.
            await retries.SucceededAsync(jobId, ct);
            return await transitions.DestinationPreparedAsync(jobId, null, failure.Code,
                $"The destination directory refused to prepare {mapping.DestinationName}: {failure.Reason}", ct);
        }
        if (error is not null)
        {
            // An outage (or a failure nobody classified): the job waits (in the store) and is tried again with
            // back-off; past the retry window it fails.
            var decision = await retries.FailedAsync(jobId, failure!.RetryAfter, ct);
            if (decision.GiveUp)
            {
                return await transitions.DestinationPreparedAsync(jobId, null, DirectoryFailures.UnavailableCode,
                    $"The destination directory could not be reached to prepare {mapping.DestinationName}: {error.Message}", ct);
            }
            logger.LogWarning(error, "Preparing the destination of job {JobId} (mapping {MappingId}) failed; will retry in {Delay}",
                jobId, mapping.Id, decision.RetryAfter);
            var next = time.GetUtcNow() + decision.RetryAfter;
            await transitions.DeferPreparationAsync(jobId, next,
                $"The destination directory could not be reached ({error.Message}); trying again at {next:HH:mm:ss} UTC.", ct);
            return false;
        }
        await retries.SucceededAsync(jobId, ct);
        if (prepared!.Ready)
        {
            var payload = prepared.ProvisioningData is { } data ? secrets.Protect(data) : null;
            return await transitions.DestinationPreparedAsync(jobId, payload, null, null, ct);
        }
        return prepared.FailureCode is not null
            && await transitions.DestinationPreparedAsync(jobId, null, prepared.FailureCode, prepared.FailureMessage, ct);
    }
}
