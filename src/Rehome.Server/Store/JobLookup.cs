using Microsoft.EntityFrameworkCore;
using Rehome.Core.Runs;

namespace Rehome.Server.Store;

/// <summary>
/// One job by id without deriving every run item's jobs to compare ids (the all_jobs view cannot turn a job id back
/// into its run item: on PostgreSQL that is a scan of run_items, 0.1–0.2 s at 50,000 items under load).
/// </summary>
public static class JobLookup
{
    /// <summary>The job, read through its run item's mapping if it is still derived, else from the table.</summary>
    public static async Task<Job?> FindJobAsync(this RehomeDbContext db, Guid jobId, CancellationToken ct)
    {
        var item = RunItems.ItemOf(jobId);
        var mapping = await db.RunItems.AsNoTracking().Where(i => i.Id == item).Select(i => (Guid?)i.MappingId).FirstOrDefaultAsync(ct);
        // Read by mapping through the view even when the item is found: it may become rows meanwhile, and the view has both.
        return mapping is { } mappingId
            ? await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.MappingId == mappingId && j.Id == jobId, ct)
            : await db.StoredJobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, ct);
    }
}
