using Rehome.Core.Runs;
using Rehome.Server.Store;

namespace Rehome.Server.Runs;

/// <summary>
/// A run's jobs counted by kind and status, as a run's status (GET /api/v1/runs/{id}) gives them, asked every second
/// or faster: the rows by the jobs table, the run items by their kinds and flag expanded in memory by
/// <see cref="RunItems.Status"/> (the rule the all_jobs view derives their jobs by; a test compares the two). Counting
/// through the view derived five jobs a run item at each ask: a rehearsal's progress display asked four times a second.
/// One statement, so one snapshot: an item that a lease claim turns into rows meanwhile is counted once, as either.
/// </summary>
public static class RunJobCounts
{
    public static async Task<List<(JobKind Kind, JobStatus Status, int Count)>> OfRunAsync(StoreCommands store, Guid runId, CancellationToken ct)
    {
        var groups = await store.QueryAsync("""
            SELECT kind, status, -1, 0, count(*) FROM jobs WHERE run_id = @run GROUP BY kind, status
            UNION ALL
            SELECT 0, 0, kinds, CASE WHEN scheduled THEN 1 ELSE 0 END, count(*) FROM run_items WHERE run_id = @run GROUP BY kinds, scheduled
            """, r => (Kind: r.GetInt32(0), Status: r.GetInt32(1), Kinds: r.GetInt32(2), Scheduled: r.GetInt32(3) != 0, Count: (int)r.GetInt64(4)),
            ct, ("run", runId));
        var counts = new Dictionary<(JobKind, JobStatus), int>();
        void Add(JobKind kind, JobStatus status, int count) => counts[(kind, status)] = counts.GetValueOrDefault((kind, status)) + count;
        foreach (var (kind, status, kinds, scheduled, count) in groups)
        {
            if (kinds < 0)
            {
                // Rows: counted as they are.
                Add((JobKind)kind, (JobStatus)status, count);
                continue;
            }
            foreach (var each in JobKinds.All.Where(k => (kinds & RunItems.Bit(k)) != 0))
            {
                Add(each, RunItems.Status(scheduled, kinds, each), count);
            }
        }
        return [.. counts.Select(c => (c.Key.Item1, c.Key.Item2, c.Value))];
    }
}
