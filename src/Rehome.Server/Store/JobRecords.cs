using Microsoft.EntityFrameworkCore;
using Rehome.Core.Runs;

namespace Rehome.Server.Store;

/// <summary>Deletes jobs with what hangs off them (log lines, item results), which have no foreign keys to cascade.</summary>
public static class JobRecords
{
    /// <summary>
    /// Deletes <paramref name="jobs"/> (rows: <see cref="RehomeDbContext.StoredJobs"/>) with their records, and
    /// <paramref name="items"/>, the run items of the same selection (by mapping or project), whose derived jobs have
    /// no records yet: the records' deletes read the table by index, not every item's jobs through the view.
    /// </summary>
    public static async Task DeleteAsync(RehomeDbContext db, IQueryable<Job> jobs, IQueryable<RunItem> items, CancellationToken ct)
    {
        var ids = jobs.Select(j => j.Id);
        await db.JobLogLines.Where(l => ids.Contains(l.JobId)).ExecuteDeleteAsync(ct);
        await db.JobItems.Where(i => ids.Contains(i.JobId)).ExecuteDeleteAsync(ct);
        await jobs.ExecuteDeleteAsync(ct);
        await items.ExecuteDeleteAsync(ct);
    }
}
