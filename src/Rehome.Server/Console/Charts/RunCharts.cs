using Microsoft.EntityFrameworkCore;
using Rehome.Core.Runs;
using Rehome.Server.Store;

namespace Rehome.Server.Console.Charts;

/// <summary>What the dashboard charts of one run show: its progress over time and its failures by reason.</summary>
public sealed record RunChartData(
    Run Run, string ProjectName, int JobCount, DateTimeOffset Start, DateTimeOffset End, IReadOnlyList<ProgressPoint> Progress, IReadOnlyList<ChartBar> FailureReasons);

/// <summary>Reads a run's ended jobs and turns them into the counts the charts draw.</summary>
public static class RunCharts
{
    /// <summary>At most this many points per line: a run of 250,000 jobs is drawn in slices of time.</summary>
    public const int MaxPoints = 120;

    /// <summary>At most this many reasons get a bar; the rest are summed under "other reasons".</summary>
    public const int MaxReasons = 8;

    /// <summary>The chart data of a run (the latest one when <paramref name="runId"/> is null), or null when there is none.</summary>
    public static async Task<RunChartData?> LoadAsync(RehomeDbContext db, Guid? runId, DateTimeOffset now, CancellationToken ct)
    {
        var runs = db.Runs.AsNoTracking();
        var run = runId is { } id
            ? await runs.FirstOrDefaultAsync(r => r.Id == id, ct)
            : await runs.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).FirstOrDefaultAsync(ct);
        if (run is null)
        {
            return null;
        }
        var project = await db.Projects.AsNoTracking().Where(p => p.Id == run.ProjectId).Select(p => p.Name).FirstOrDefaultAsync(ct) ?? "(deleted project)";
        var jobs = await db.Jobs.AsNoTracking().Where(j => j.RunId == run.Id)
            .Select(j => new { j.Status, j.FinishedAt, j.ErrorCode })
            .ToListAsync(ct);
        var ended = jobs.Where(j => !j.Status.IsActive() && j.FinishedAt != null).Select(j => (j.FinishedAt!.Value, j.Status)).ToList();
        var start = run.ReleasedAt ?? run.StartAt;
        var active = jobs.Any(j => j.Status.IsActive());
        var end = active || ended.Count == 0 ? Max(now, start) : Max(ended.Max(e => e.Value), start);
        var reasons = jobs.Where(j => j.Status == JobStatus.Failed).Select(j => j.ErrorCode ?? "(no reason given)");
        return new RunChartData(run, project, jobs.Count, start, end, Progress(start, end, ended), FailureReasons(reasons));
    }

    /// <summary>
    /// The cumulative finished (Finished and Exceptions) and failed counts of ended jobs, from the run's start to
    /// <paramref name="end"/>: a point at each end time, or at the end of each of <see cref="MaxPoints"/> equal slices
    /// of time when there are more.
    /// </summary>
    public static IReadOnlyList<ProgressPoint> Progress(DateTimeOffset start, DateTimeOffset end, IEnumerable<(DateTimeOffset EndedAt, JobStatus Status)> ended)
    {
        var sorted = ended.OrderBy(e => e.EndedAt).ToList();
        var times = sorted.Select(e => e.EndedAt).Distinct().ToList();
        var marks = times.Count <= MaxPoints
            ? times
            : Enumerable.Range(1, MaxPoints).Select(i => start + (end - start) * i / MaxPoints).ToList();
        var points = new List<ProgressPoint> { new(start, 0, 0) };
        int finished = 0, failed = 0, next = 0;
        foreach (var mark in marks)
        {
            for (; next < sorted.Count && sorted[next].EndedAt <= mark; next++)
            {
                finished += sorted[next].Status is JobStatus.Finished or JobStatus.Exceptions ? 1 : 0;
                failed += sorted[next].Status == JobStatus.Failed ? 1 : 0;
            }
            points.Add(new ProgressPoint(mark, finished, failed));
        }
        // The line goes on to the end (the run may still be going).
        if (points[^1].At < end)
        {
            points.Add(points[^1] with { At = end });
        }
        return points;
    }

    /// <summary>Failures counted by reason, the most frequent first (ties by name), the tail summed under "other reasons".</summary>
    public static IReadOnlyList<ChartBar> FailureReasons(IEnumerable<string> reasons)
    {
        var counted = reasons.GroupBy(r => r, StringComparer.Ordinal)
            .Select(g => new ChartBar(g.Key, g.Count()))
            .OrderByDescending(b => b.Count).ThenBy(b => b.Label, StringComparer.Ordinal)
            .ToList();
        if (counted.Count <= MaxReasons)
        {
            return counted;
        }
        return [.. counted.Take(MaxReasons - 1), new ChartBar("other reasons", counted.Skip(MaxReasons - 1).Sum(b => b.Count))];
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
