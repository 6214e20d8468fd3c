using Microsoft.EntityFrameworkCore;
using Rehome.Core.Runs;
using Rehome.Server.Store;

namespace Rehome.Server.Directories.Connected;

/// <summary>What an Autopilot ask finds on its job's row.</summary>
/// <param name="Held">The ask's lease token still holds the job; when not, the ask changes nothing.</param>
/// <param name="ImportId">The import the job follows for the asked serial number; null: none, start one.</param>
public sealed record FollowedImport(bool Held, string? ImportId);

/// <summary>
/// The Autopilot import a Register Windows Autopilot job follows, kept on the job's row rather than in one server's
/// memory: the agent's next ask, on any replica or after a restart, even after its lease lapsed and came back, reads
/// the same import instead of starting another. Every read and write names the job and the lease token of the ask,
/// so an ask whose lease moved on changes nothing; a later job of the mapping (a re-run, a new run) is a row of its
/// own and starts afresh.
/// </summary>
public sealed class AutopilotImports(RehomeDbContext db)
{
    public async Task<FollowedImport> FollowedAsync(Guid jobId, Guid leaseToken, string serialNumber, CancellationToken ct)
    {
        // A held job is a row: read the table, not the view that derives every run item's jobs to compare ids.
        var row = await Held(db.StoredJobs, jobId, leaseToken).AsNoTracking()
            .Select(j => new { j.AutopilotImportId, j.AutopilotImportSerial }).FirstOrDefaultAsync(ct);
        // A serial number that changed (another device's hash, a replaced board) is a new import.
        return new FollowedImport(row is not null, row is not null && row.AutopilotImportSerial == serialNumber ? row.AutopilotImportId : null);
    }

    /// <summary>
    /// Records the import Graph is still processing. Only over what the ask found (nothing, another serial's import,
    /// or the one it followed): when two asks started an import at once, the first recorded is the one every later ask
    /// follows. Not cancellable: an import Graph has started is recorded even if the agent hung up.
    /// </summary>
    public Task ProcessingAsync(Guid jobId, Guid leaseToken, string serialNumber, string importId, string? followed) =>
        Held(db.Jobs, jobId, leaseToken)
            .Where(j => j.AutopilotImportId == null || j.AutopilotImportSerial != serialNumber || j.AutopilotImportId == followed)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.AutopilotImportId, importId).SetProperty(j => j.AutopilotImportSerial, serialNumber),
                CancellationToken.None);

    /// <summary>
    /// The import ended (any outcome): the job lets go of the one it followed, and of any import of another serial
    /// number, so nothing is read again. Another ask's import of the same serial, recorded meanwhile, stays.
    /// </summary>
    public Task EndedAsync(Guid jobId, Guid leaseToken, string serialNumber, string? followed) =>
        Held(db.Jobs, jobId, leaseToken)
            .Where(j => j.AutopilotImportId != null && (j.AutopilotImportId == followed || j.AutopilotImportSerial != serialNumber))
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.AutopilotImportId, (string?)null).SetProperty(j => j.AutopilotImportSerial, (string?)null),
                CancellationToken.None);

    private static IQueryable<Job> Held(IQueryable<Job> jobs, Guid jobId, Guid leaseToken) =>
        jobs.IgnoreQueryFilters().Where(j =>
            j.Id == jobId && j.LeaseToken == leaseToken && j.Status == JobStatus.InProgress && j.Kind == JobKind.RegisterAutopilot);
}
