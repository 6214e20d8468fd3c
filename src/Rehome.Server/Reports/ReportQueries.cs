using Microsoft.EntityFrameworkCore;
using Rehome.Core.Runs;
using Rehome.Server.Api;
using Rehome.Server.Store;

namespace Rehome.Server.Reports;

/// <summary>
/// Reads the run and project reports from the store. Totals are summed while the jobs stream past; failures are
/// handed out as a stream to be written as they are read. The unit of work's project limits apply as everywhere:
/// a run or project the caller may not see is not found.
/// </summary>
public sealed class ReportQueries(RehomeDbContext db, TimeProvider time)
{
    public async Task<RunReport?> RunAsync(Guid runId, CancellationToken ct)
    {
        var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, ct);
        if (run is null)
        {
            return null;
        }
        var project = await db.Projects.AsNoTracking().Where(p => p.Id == run.ProjectId).Select(p => p.Name).FirstOrDefaultAsync(ct);
        var totals = await TotalsAsync(db.Jobs.AsNoTracking().Where(j => j.RunId == runId), ct);
        return new RunReport(RunView.From(run), project ?? "", time.GetUtcNow(), totals);
    }

    public async Task<ProjectReport?> ProjectAsync(Guid projectId, CancellationToken ct)
    {
        var project = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == projectId, ct);
        if (project is null)
        {
            return null;
        }
        var mappings = await (await db.MappingsOfAsync(projectId, ct)).AsNoTracking()
            .GroupBy(m => new { m.Stage, m.Status })
            .Select(g => new { g.Key.Stage, g.Key.Status, Count = g.Count() })
            .ToListAsync(ct);
        var runs = await db.Runs.AsNoTracking().Where(r => r.ProjectId == projectId).OrderBy(r => r.CreatedAt).ThenBy(r => r.Id).ToListAsync(ct);
        var counts = await db.Jobs.AsNoTracking().Where(j => j.ProjectId == projectId)
            .GroupBy(j => new { j.RunId, j.Status })
            .Select(g => new { g.Key.RunId, g.Key.Status, Count = g.Count(), LastFinished = g.Max(j => j.FinishedAt) })
            .ToListAsync(ct);
        var lines = runs.Select(r =>
        {
            var own = counts.Where(c => c.RunId == r.Id).OrderBy(c => c.Status).ToList();
            var over = own.Count > 0 && own.All(c => !c.Status.IsActive()) && r.ReleasedAt is not null;
            return new RunLine(RunView.From(r), [.. own.Select(c => (c.Status, c.Count))], over ? own.Max(c => c.LastFinished) ?? r.StartAt : null);
        }).ToList();
        var totals = await TotalsAsync(LatestJobs(projectId), ct);
        return new ProjectReport(project.Id, project.Name, time.GetUtcNow(),
            [.. mappings.OrderBy(m => m.Stage).ThenBy(m => m.Status).Select(m => new MappingStateCount(m.Stage, m.Status, m.Count))], lines, totals);
    }

    /// <summary>The run's jobs that did not finish cleanly, by device and job kind, read as they are written.</summary>
    public IAsyncEnumerable<FailureRow> RunFailures(Guid runId) => Failures(db.Jobs.AsNoTracking().Where(j => j.RunId == runId));

    /// <summary>Each mapping's latest job of each kind, where it did not finish cleanly: what still needs attention.</summary>
    public IAsyncEnumerable<FailureRow> ProjectFailures(Guid projectId) => Failures(LatestJobs(projectId));

    /// <summary>
    /// Each mapping's latest job of each kind, dry runs left out (they changed nothing): a job re-run later is
    /// counted as it stands now, once.
    /// </summary>
    private IQueryable<Job> LatestJobs(Guid projectId)
    {
        // The later job is looked for in the table and in the run items apart, each by its mapping index: a correlated
        // probe of the all_jobs view would derive every run item's jobs again for each job on SQLite.
        var jobs = db.Jobs.AsNoTracking().Where(j => j.ProjectId == projectId && !j.DryRun);
        return jobs.Where(j =>
            !db.StoredJobs.Any(later => later.MappingId == j.MappingId && later.Kind == j.Kind && later.CreatedAt > j.CreatedAt && !later.DryRun)
            && !db.RunItems.Any(later => later.MappingId == j.MappingId && later.CreatedAt > j.CreatedAt && !later.DryRun
                // The kind's bit (RunItems.Bit) spelled out: EF translates no shift by a column.
                && (later.Kinds & (j.Kind == JobKind.RejoinDomain ? 1 << (int)JobKind.RejoinDomain
                    : j.Kind == JobKind.MigratePermissions ? 1 << (int)JobKind.MigratePermissions
                    : j.Kind == JobKind.MigrateUserProfile ? 1 << (int)JobKind.MigrateUserProfile
                    : j.Kind == JobKind.MigrateEntraIdGroups ? 1 << (int)JobKind.MigrateEntraIdGroups
                    : j.Kind == JobKind.RegisterAutopilot ? 1 << (int)JobKind.RegisterAutopilot : 0)) != 0));
    }

    private IAsyncEnumerable<FailureRow> Failures(IQueryable<Job> jobs) =>
        jobs.Where(j => JobAdvice.FailureStatuses.Contains(j.Status))
            .Join(db.StoredMappings, j => j.MappingId, m => m.Id, (j, m) => new { Job = j, m.SourceDevice, m.SourceDeviceKey, m.DestinationName })
            .OrderBy(x => x.SourceDeviceKey).ThenBy(x => x.Job.Kind).ThenBy(x => x.Job.CreatedAt)
            .Select(x => new FailureRow(x.Job.Id, x.Job.RunId, x.SourceDevice, x.DestinationName, x.Job.Kind, x.Job.Status, x.Job.ErrorCode,
                x.Job.ErrorMessage, x.Job.StartedAt, x.Job.FinishedAt))
            .AsAsyncEnumerable();

    private static async Task<JobTotals> TotalsAsync(IQueryable<Job> jobs, CancellationToken ct)
    {
        var totals = new JobTotalsBuilder();
        await foreach (var j in jobs.Select(j => new { j.Kind, j.Status, j.StartedAt, j.FinishedAt, j.Areas }).AsAsyncEnumerable().WithCancellation(ct))
        {
            totals.Add(j.Kind, j.Status, j.StartedAt, j.FinishedAt, j.Areas);
        }
        return totals.Build();
    }
}
