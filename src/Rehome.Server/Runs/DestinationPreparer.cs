using Microsoft.EntityFrameworkCore;
using Rehome.Core.Runs;
using Rehome.Server.Directories;
using Rehome.Server.Directories.Connected;
using Rehome.Server.Secrets;
using Rehome.Server.Store;

namespace Rehome.Server.Runs;

/// <summary>
/// Prepares the destination of rejoin jobs that wait for it (computer object, offline join data), then lets
/// them start, or fails them with the directory's reason. Runs on the engine's tick; the move out of
/// Waiting for destination is conditional, so replicas may race.
/// </summary>
public sealed class DestinationPreparer(
    RehomeDbContext db, JobTransitions transitions, IMigrationDirectory directory, DirectoryRetries retries, ConnectedDirectoryOptions options,
    SecretProtector secrets, ILogger<DestinationPreparer> logger)
{
    public const int BatchSize = 500;

    /// <summary>Returns how many jobs left Waiting for destination.</summary>
    public async Task<int> PrepareWaitingAsync(CancellationToken ct)
    {
        if (directory is NotConnectedDirectory)
        {
            return 0;
        }
        var waiting = await (
            from j in db.Jobs.AsNoTracking()
            join m in db.Mappings.AsNoTracking() on j.MappingId equals m.Id
            join p in db.Projects.AsNoTracking() on m.ProjectId equals p.Id
            join d in db.Connections.AsNoTracking() on p.DestinationConnectionId equals d.Id
            join policy in db.Policies.AsNoTracking() on p.PolicyId equals policy.Id
            where j.Status == JobStatus.WaitingForDestination
            orderby j.CreatedAt
            select new { JobId = j.Id, Mapping = m, Project = p, Destination = d, policy.Settings }).Take(BatchSize).ToListAsync(ct);
        // The directory work (LDAP, offline join provisioning) runs a few at a time, in small rounds so that the
        // first jobs start while later ones are still being provisioned; the store writes one by one.
        var concurrency = Math.Max(1, options.ProvisioningConcurrency);
        var due = waiting.Where(j => retries.IsDue(j.JobId)).Take(concurrency * 4).ToList();
        var outcomes = new (DestinationPreparation? Prepared, Exception? Error)[due.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, due.Count),
            new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = ct },
            async (i, token) =>
            {
                var job = due[i];
                try
                {
                    outcomes[i] = (await directory.PrepareDestinationAsync(
                        new DestinationRequest(job.JobId, job.Mapping, job.Project, job.Destination, job.Settings), token), null);
                }
                catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
                {
                    outcomes[i] = (null, e);
                }
            });
        var moved = 0;
        for (var i = 0; i < due.Count; i++)
        {
            var job = due[i];
            if (outcomes[i] is not (DestinationPreparation prepared, null))
            {
                // An outage leaves the job waiting and tries again with back-off; past the retry window the job fails with the reason.
                var e = outcomes[i].Error!;
                var decision = retries.Failed(job.JobId, (e as Rehome.Directory.DirectoryUnavailableException)?.RetryAfter);
                if (decision.GiveUp)
                {
                    moved += await transitions.DestinationPreparedAsync(job.JobId, null, "DirectoryUnavailable",
                        $"The destination directory could not be reached to prepare {job.Mapping.DestinationName}: {e.Message}", ct) ? 1 : 0;
                    continue;
                }
                logger.LogWarning(e, "Preparing the destination of job {JobId} (mapping {MappingId}) failed; will retry in {Delay}",
                    job.JobId, job.Mapping.Id, decision.RetryAfter);
                continue;
            }
            retries.Succeeded(job.JobId);
            if (prepared.Ready)
            {
                var payload = prepared.ProvisioningData is { } data ? secrets.Protect(data) : null;
                moved += await transitions.DestinationPreparedAsync(job.JobId, payload, null, null, ct) ? 1 : 0;
            }
            else if (prepared.FailureCode is not null)
            {
                moved += await transitions.DestinationPreparedAsync(job.JobId, null, prepared.FailureCode, prepared.FailureMessage, ct) ? 1 : 0;
            }
        }
        return moved;
    }
}
