using Microsoft.EntityFrameworkCore;
using Rehome.Core.Cleanup;
using Rehome.Core.Runs;
using Rehome.Server.Api;
using Rehome.Server.Audit;
using Rehome.Server.Mappings;
using Rehome.Server.Runs;
using Rehome.Server.Store;

namespace Rehome.Server.Administration;

/// <summary>
/// Starts, previews, stops and re-runs runs and jobs: the checks of a request before the <see cref="RunEngine"/>
/// plans it, for the API and the console's Migration menu.
/// </summary>
public sealed class RunCommands(RehomeDbContext db, RunEngine engine, JobTransitions transitions, AuditTrail audit)
{
    /// <summary>Starts a run, or with <paramref name="preview"/> answers what it would start and refuse, writing nothing.</summary>
    public async Task<Outcome<RunStartOutcome>> StartAsync(Guid projectId, StartRunInput input, bool preview, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct))
        {
            return Failure.NotFound($"Project {projectId}");
        }
        if (!preview && await ArchivedProjects.RefuseAsync(db, projectId, ArchivedAction.Run, ct) is { } archived)
        {
            return archived;
        }
        if (SelectionProblem(input.MappingIds, input.Filter, "run") is { } problem)
        {
            return problem;
        }
        return await engine.StartAsync(projectId, new RunSelection(input.MappingIds, input.Filter), input.Kinds ?? [], input.StartAt, preview, ct, input.DryRun);
    }

    /// <summary>What is wrong with a selection of mappings (ids, or a filter: one of the two), or null.</summary>
    private static Failure? SelectionProblem(List<Guid>? mappingIds, MappingFilter? filter, string verb)
    {
        if (mappingIds is not null && filter is not null)
        {
            return Failure.Validation("filter", "SelectionAmbiguous", "Give either mappingIds or a filter, not both.");
        }
        if (mappingIds is null && filter is null)
        {
            return Failure.Validation("mappingIds", "Required", $"Give the mappings to {verb}: mappingIds, or a filter (an empty filter selects every mapping).");
        }
        return filter is not null && MappingQuery.Check(filter, null, "filter.") is { } problem ? Failure.Validation([problem]) : null;
    }

    /// <summary>
    /// Stops the jobs not over of a selection of a project's mappings (ids, or all matching a filter) in one request:
    /// waiting jobs stop at once, running ones are asked to stop (<see cref="Core.Runs.JobStateMachine.Stop"/>).
    /// Ids of mappings outside the project are passed over. Audited once, with the counts.
    /// </summary>
    public async Task<Outcome<StopResult>> StopSelectionAsync(Guid projectId, StopSelectionInput input, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct))
        {
            return Failure.NotFound($"Project {projectId}");
        }
        if (SelectionProblem(input.MappingIds, input.Filter, "stop") is { } problem)
        {
            return problem;
        }
        var mappings = (await db.MappingsOfAsync(projectId, ct)).AsNoTracking();
        if (input.Filter is { } filter)
        {
            mappings = MappingQuery.Apply(db, mappings, filter);
        }
        // Only mappings with a job not over (through the jobs' mapping and status index); explicit ids are matched here,
        // as thousands of them would make as many query parameters.
        // A run item's jobs are all waiting (active), and a correlated condition is not pushed into the all_jobs view by
        // SQLite: the rows and the items are asked separately.
        var active = await mappings.Where(m => db.StoredJobs.Any(j => j.MappingId == m.Id && j.Status >= JobStatuses.FirstActive && j.Status <= JobStatuses.LastActive)
                || db.RunItems.Any(i => i.MappingId == m.Id))
            .Select(m => m.Id).ToListAsync(ct);
        if (input.MappingIds is { } ids)
        {
            active = active.Intersect(ids).ToList();
        }
        var (now, requested) = active.Count == 0 ? (0, 0) : await transitions.StopMappingsAsync(active, audit.Actor, ct);
        audit.Record("jobs.stop", $"project:{projectId}", $"{now} stopped, {requested} asked to stop, on {active.Count} selected mapping(s)");
        await db.SaveChangesAsync(ct);
        return new StopResult(now, requested);
    }

    public async Task<Outcome<StopResult>> StopRunAsync(Guid id, CancellationToken ct)
    {
        if (!await db.Runs.AnyAsync(r => r.Id == id, ct))
        {
            return Failure.NotFound($"Run {id}");
        }
        var (now, requested) = await transitions.StopRunAsync(id, audit.Actor, ct);
        audit.Record("run.stop", $"run:{id}", $"{now} stopped, {requested} asked to stop");
        await db.SaveChangesAsync(ct);
        return new StopResult(now, requested);
    }

    public async Task<Outcome<StopResult>> StopJobAsync(Guid id, CancellationToken ct)
    {
        if (await db.FindJobAsync(id, ct) is null)
        {
            return Failure.NotFound($"Job {id}");
        }
        var effect = await transitions.StopJobAsync(id, audit.Actor, ct);
        if (effect == StopEffect.AlreadyOver)
        {
            return Failure.Conflict("JobAlreadyOver", "The job is already over; there is nothing to stop.");
        }
        audit.Record("job.stop", $"job:{id}", effect.ToString());
        await db.SaveChangesAsync(ct);
        return new StopResult(effect == StopEffect.StopNow ? 1 : 0, effect == StopEffect.RequestFromAgent ? 1 : 0);
    }

    public async Task<Outcome<RunStartOutcome>> RerunRunAsync(Guid id, IReadOnlyList<JobKind>? kinds, CancellationToken ct)
    {
        var projectId = await db.Runs.Where(r => r.Id == id).Select(r => (Guid?)r.ProjectId).FirstOrDefaultAsync(ct);
        if (projectId is null)
        {
            return Failure.NotFound($"Run {id}");
        }
        return await ArchivedProjects.RefuseAsync(db, projectId.Value, ArchivedAction.Run, ct) is { } archived
            ? archived
            : await engine.RerunAsync(id, kinds, null, false, ct);
    }

    public async Task<Outcome<RunStartOutcome>> RerunJobAsync(Guid id, CancellationToken ct)
    {
        var job = await db.FindJobAsync(id, ct);
        if (job is null)
        {
            return Failure.NotFound($"Job {id}");
        }
        if (job.RevertOf is { } reverted)
        {
            return Failure.Conflict("RevertNotRerunnable", $"This job reverts job {reverted}; ask for the revert of that job again instead.");
        }
        if (!job.Status.CanRerun())
        {
            return Failure.Conflict("JobNotRerunnable",
                $"Only a job that ended Failed, Exceptions or Stopped can be re-run; this one is {job.Status.DisplayName()}.");
        }
        // A job of a mapping moved here from another project belongs to that project's run, which an account limited
        // to this project does not see (and may not re-run).
        if (!await db.Runs.AnyAsync(r => r.Id == job.RunId, ct))
        {
            return Failure.NotFound($"Run {job.RunId}");
        }
        if (await ArchivedProjects.RefuseForMappingAsync(db, job.MappingId, ArchivedAction.Run, ct) is { } archived)
        {
            return archived;
        }
        return await engine.RerunAsync(job.RunId, null, id, false, ct);
    }

    /// <summary>Reverts a finished permissions or profile job on its device (see <see cref="RunEngine.RevertAsync"/>); 409 with the reason when it may not be.</summary>
    public async Task<Outcome<RunStartOutcome>> RevertJobAsync(Guid id, CancellationToken ct)
    {
        var job = await db.FindJobAsync(id, ct);
        // The revert runs in the mapping's project of today (it may have moved since), which must be visible too.
        var projectId = job is null ? null : await db.StoredMappings.Where(m => m.Id == job.MappingId).Select(m => (Guid?)m.ProjectId).FirstOrDefaultAsync(ct);
        if (job is null || projectId is null)
        {
            return Failure.NotFound($"Job {id}");
        }
        if (await ArchivedProjects.RefuseAsync(db, projectId.Value, ArchivedAction.Run, ct) is { } archived)
        {
            return archived;
        }
        var outcome = await engine.RevertAsync(id, projectId.Value, ct);
        if (outcome.RunRefused is { } refused)
        {
            return Failure.Conflict(refused.Rule, refused.Message);
        }
        return outcome;
    }
}
