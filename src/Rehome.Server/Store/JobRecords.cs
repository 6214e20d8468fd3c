using Microsoft.EntityFrameworkCore;
using Rehome.Core.Runs;

namespace Rehome.Server.Store;

/// <summary>Deletes jobs with what hangs off them (log lines, item results), which have no foreign keys to cascade.</summary>
public static class JobRecords
{
    public static async Task DeleteAsync(RehomeDbContext db, IQueryable<Job> jobs, CancellationToken ct)
    {
        var ids = jobs.Select(j => j.Id);
        await db.JobLogLines.Where(l => ids.Contains(l.JobId)).ExecuteDeleteAsync(ct);
        await db.JobItems.Where(i => ids.Contains(i.JobId)).ExecuteDeleteAsync(ct);
        await jobs.ExecuteDeleteAsync(ct);
    }
}
