using Microsoft.EntityFrameworkCore;
using Rehome.Core.Runs;
using Rehome.Server.Store;

namespace Rehome.Server.Runs;

/// <summary>
/// A run's jobs counted by kind and status, as a run's status (GET /api/v1/runs/{id}) gives them, asked every second
/// or faster: the rows by the jobs table, the run items by their kinds and flag expanded in memory by
/// <see cref="RunItems.Status"/> (the rule the all_jobs view derives their jobs by; a test compares the two). Counting
/// through the view derived five jobs a run item at each ask: a rehearsal's progress display asked four times a second.
/// </summary>
public static class RunJobCounts
{
    public static async Task<List<(JobKind Kind, JobStatus Status, int Count)>> OfRunAsync(RehomeDbContext db, Guid runId, CancellationToken ct)
    {
        var rows = await db.StoredJobs.AsNoTracking().Where(j => j.RunId == runId)
            .GroupBy(j => new { j.Kind, j.Status })
            .Select(g => new { g.Key.Kind, g.Key.Status, Count = g.Count() })
            .ToListAsync(ct);
        var items = await db.RunItems.AsNoTracking().Where(i => i.RunId == runId)
            .GroupBy(i => new { i.Kinds, i.Scheduled })
            .Select(g => new { g.Key.Kinds, g.Key.Scheduled, Count = g.Count() })
            .ToListAsync(ct);
        var counts = rows.ToDictionary(r => (r.Kind, r.Status), r => r.Count);
        foreach (var item in items)
        {
            foreach (var kind in JobKinds.All.Where(k => (item.Kinds & RunItems.Bit(k)) != 0))
            {
                var key = (kind, RunItems.Status(item.Scheduled, item.Kinds, kind));
                counts[key] = counts.GetValueOrDefault(key) + item.Count;
            }
        }
        return [.. counts.Select(c => (c.Key.Item1, c.Key.Item2, c.Value))];
    }
}
