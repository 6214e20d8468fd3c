using Microsoft.EntityFrameworkCore;
using Rehome.Server.Api;
using Rehome.Server.Store;

namespace Rehome.Server.Mappings;

/// <summary>A mapping's report: every job of every run, the device's log and the items its jobs touched.</summary>
public static class MappingReports
{
    public static async Task<MappingReport?> LoadAsync(RehomeDbContext db, Guid id, CancellationToken ct)
    {
        var mapping = await db.Mappings.AsNoTracking().FirstOrDefaultAsync(m => m.Id == id, ct);
        if (mapping is null)
        {
            return null;
        }
        var jobs = await db.Jobs.AsNoTracking().Where(j => j.MappingId == id).ToListAsync(ct);
        var runIds = jobs.Select(j => j.RunId).Distinct().ToList();
        var runs = await db.Runs.AsNoTracking().Where(r => runIds.Contains(r.Id)).ToListAsync(ct);
        var report = runs.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id)
            .Select(r => new MappingReportRun(r.Id, r.RequestedBy, r.CreatedAt, r.StartAt,
                jobs.Where(j => j.RunId == r.Id).OrderBy(j => j.Kind).Select(JobView.From).ToList(), r.DryRun))
            .ToList();
        var jobIds = jobs.Select(j => j.Id).ToList();
        var log = await db.JobLogLines.AsNoTracking().Where(l => jobIds.Contains(l.JobId))
            .OrderByDescending(l => l.Id).Take(MappingReport.MaxLines)
            .Select(l => new LogLineView(l.JobId, l.At, l.Level, l.Text)).ToListAsync(ct);
        log.Reverse();
        var items = await db.JobItems.AsNoTracking().Where(i => jobIds.Contains(i.JobId))
            .OrderByDescending(i => i.Id).Take(MappingReport.MaxLines)
            .Select(i => new ItemView(i.JobId, i.Item, i.Outcome, i.Error, i.At)).ToListAsync(ct);
        return new MappingReport(MappingView.From(mapping), report, log, items);
    }
}
