using Microsoft.EntityFrameworkCore;
using Rehome.Core.Runs;
using Rehome.Server.Audit;
using Rehome.Server.Mappings;
using Rehome.Server.Runs;
using Rehome.Server.Store;

namespace Rehome.Server.Api;

/// <summary>
/// Start a run: job kinds, and either explicit mapping ids or a filter ("everything matching this filter").
/// <c>StartAt</c> in the future schedules the run.
/// </summary>
public sealed record StartRunInput(List<JobKind>? Kinds, List<Guid>? MappingIds, MappingFilter? Filter, DateTimeOffset? StartAt);

public sealed record RerunInput(List<JobKind>? Kinds);

/// <summary>The answer to a run start or preview: how many jobs start, on how many mappings, and every refusal.</summary>
public sealed record RunStartResult(
    RunView? Run, int JobCount, int MappingCount, bool Scheduled, DateTimeOffset StartAt, int RefusedCount, IReadOnlyList<Refusal> Refusals);

public sealed record StopResult(int StoppedNow, int StopRequested);

/// <summary>/api/v1/projects/{id}/runs, /api/v1/runs, /api/v1/jobs.</summary>
public static class RunsApi
{
    public static RouteGroupBuilder MapRunsApi(this RouteGroupBuilder api)
    {
        var inProject = api.MapGroup("/projects/{projectId:guid}/runs").WithTags("Runs");
        inProject.MapPost("/", (Guid projectId, StartRunInput input, RehomeDbContext db, RunEngine engine, CancellationToken ct) =>
                StartAsync(projectId, input, false, db, engine, ct))
            .WithName("StartRun").WithSummary("Starts (or schedules) a run; refused jobs are listed with their reasons.");
        inProject.MapPost("/preview", (Guid projectId, StartRunInput input, RehomeDbContext db, RunEngine engine, CancellationToken ct) =>
                StartAsync(projectId, input, true, db, engine, ct))
            .WithName("PreviewRun").WithSummary("What a run would start and refuse, without starting anything (the confirmation).");
        inProject.MapGet("/", async (Guid projectId, int? page, int? pageSize, RehomeDbContext db, CancellationToken ct) =>
        {
            var (number, size) = Paging.Clamp(page, pageSize);
            var query = db.Runs.AsNoTracking().Where(r => r.ProjectId == projectId);
            var total = await query.CountAsync(ct);
            var runs = await query.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).Skip((number - 1) * size).Take(size).ToListAsync(ct);
            return Results.Ok(new Page<RunView>(runs.Select(RunView.From).ToList(), total, number, size));
        }).WithName("ListRuns");

        var runs = api.MapGroup("/runs").WithTags("Runs");
        runs.MapGet("/{id:guid}", GetRunAsync).WithName("GetRun");
        runs.MapGet("/{id:guid}/jobs", ListJobsAsync).WithName("ListRunJobs");
        runs.MapPost("/{id:guid}/stop", async (Guid id, RehomeDbContext db, JobTransitions transitions, AuditTrail audit, CancellationToken ct) =>
        {
            if (!await db.Runs.AnyAsync(r => r.Id == id, ct))
            {
                return Problems.NotFound($"Run {id}");
            }
            var (now, requested) = await transitions.StopRunAsync(id, audit.Actor, ct);
            audit.Record("run.stop", $"run:{id}", $"{now} stopped, {requested} asked to stop");
            await db.SaveChangesAsync(ct);
            return Results.Ok(new StopResult(now, requested));
        }).WithName("StopRun");
        runs.MapPost("/{id:guid}/rerun", async (Guid id, RerunInput? input, RehomeDbContext db, RunEngine engine, CancellationToken ct) =>
            await db.Runs.AnyAsync(r => r.Id == id, ct)
                ? ToResult(await engine.RerunAsync(id, input?.Kinds, null, false, ct))
                : Problems.NotFound($"Run {id}"))
            .WithName("RerunRun").WithSummary("Runs again the jobs of this run that ended Failed, Exceptions or Stopped.");

        var jobs = api.MapGroup("/jobs").WithTags("Runs");
        jobs.MapGet("/{id:guid}", async (Guid id, RehomeDbContext db, CancellationToken ct) =>
            await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == id, ct) is { } job
                ? Results.Ok(JobView.From(job))
                : Problems.NotFound($"Job {id}")).WithName("GetJob");
        jobs.MapPost("/{id:guid}/stop", async (Guid id, RehomeDbContext db, JobTransitions transitions, AuditTrail audit, CancellationToken ct) =>
        {
            if (!await db.Jobs.AnyAsync(j => j.Id == id, ct))
            {
                return Problems.NotFound($"Job {id}");
            }
            var effect = await transitions.StopJobAsync(id, audit.Actor, ct);
            if (effect == StopEffect.AlreadyOver)
            {
                return Problems.Conflict("JobAlreadyOver", "The job is already over; there is nothing to stop.");
            }
            audit.Record("job.stop", $"job:{id}", effect.ToString());
            await db.SaveChangesAsync(ct);
            return Results.Ok(new StopResult(effect == StopEffect.StopNow ? 1 : 0, effect == StopEffect.RequestFromAgent ? 1 : 0));
        }).WithName("StopJob");
        jobs.MapPost("/{id:guid}/rerun", async (Guid id, RehomeDbContext db, RunEngine engine, CancellationToken ct) =>
        {
            var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == id, ct);
            if (job is null)
            {
                return Problems.NotFound($"Job {id}");
            }
            if (!job.Status.CanRerun())
            {
                return Problems.Conflict("JobNotRerunnable",
                    $"Only a job that ended Failed, Exceptions or Stopped can be re-run; this one is {job.Status.DisplayName()}.");
            }
            return ToResult(await engine.RerunAsync(job.RunId, null, id, false, ct));
        }).WithName("RerunJob");
        return api;
    }

    private static async Task<IResult> StartAsync(
        Guid projectId, StartRunInput input, bool preview, RehomeDbContext db, RunEngine engine, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct))
        {
            return Problems.NotFound($"Project {projectId}");
        }
        if (input.MappingIds is not null && input.Filter is not null)
        {
            return Problems.Validation("filter", "SelectionAmbiguous", "Give either mappingIds or a filter, not both.");
        }
        if (input.MappingIds is null && input.Filter is null)
        {
            return Problems.Validation("mappingIds", "Required", "Give the mappings to run: mappingIds, or a filter (an empty filter selects every mapping).");
        }
        if (input.Filter is { } filter && MappingQuery.Check(filter, null) is { } problem)
        {
            return Problems.Validation("filter", "Filter", problem);
        }
        var outcome = await engine.StartAsync(projectId, new RunSelection(input.MappingIds, input.Filter), input.Kinds ?? [], input.StartAt, preview, ct);
        if (preview && outcome.RunRefused is null)
        {
            return Results.Ok(Result(outcome));
        }
        return ToResult(outcome);
    }

    private static IResult ToResult(RunStartOutcome outcome)
    {
        if (outcome.RunRefused is { } refused)
        {
            return Problems.Rule(StatusCodes.Status400BadRequest, "The run was refused; nothing started", refused.Rule, refused.Message);
        }
        if (outcome.Run is null)
        {
            return Problems.Rule(StatusCodes.Status422UnprocessableEntity, "Every job was refused; nothing started", "AllJobsRefused",
                $"None of the {outcome.Refusals.Count} job(s) asked for can start. The first reason: {outcome.Refusals.FirstOrDefault()?.Message}",
                new Dictionary<string, object?> { ["refusals"] = outcome.Refusals });
        }
        return Results.Created($"/api/v1/runs/{outcome.Run.Id}", Result(outcome));
    }

    private static RunStartResult Result(RunStartOutcome o) => new(
        o.Run is null ? null : RunView.From(o.Run), o.JobCount, o.MappingCount, o.Scheduled, o.StartAt, o.Refusals.Count, o.Refusals);

    private static async Task<IResult> GetRunAsync(Guid id, RehomeDbContext db, CancellationToken ct)
    {
        var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct);
        if (run is null)
        {
            return Problems.NotFound($"Run {id}");
        }
        var counts = await db.Jobs.AsNoTracking().Where(j => j.RunId == id)
            .GroupBy(j => new { j.Kind, j.Status })
            .Select(g => new { g.Key.Kind, g.Key.Status, Count = g.Count() })
            .ToListAsync(ct);
        var byKind = counts.GroupBy(c => c.Kind).OrderBy(g => g.Key).ToDictionary(
            g => g.Key.ToString(),
            g => (IReadOnlyDictionary<string, int>)g.ToDictionary(c => c.Status.ToString(), c => c.Count));
        var isOver = counts.All(c => !c.Status.IsActive());
        return Results.Ok(new RunStatusView(RunView.From(run), byKind, isOver));
    }

    private static async Task<IResult> ListJobsAsync(
        Guid id, string? status, string? kind, int? page, int? pageSize, RehomeDbContext db, CancellationToken ct)
    {
        if (!await db.Runs.AnyAsync(r => r.Id == id, ct))
        {
            return Problems.NotFound($"Run {id}");
        }
        var query = db.Jobs.AsNoTracking().Where(j => j.RunId == id);
        if (status is { Length: > 0 })
        {
            if (!Enum.TryParse<JobStatus>(status, true, out var s))
            {
                return Problems.Validation("status", "Filter", $"'{status}' is not a status; use one of {string.Join(", ", Enum.GetNames<JobStatus>())}.");
            }
            query = query.Where(j => j.Status == s);
        }
        if (kind is { Length: > 0 })
        {
            if (!Enum.TryParse<JobKind>(kind, true, out var k))
            {
                return Problems.Validation("kind", "Filter", $"'{kind}' is not a job kind; use one of {string.Join(", ", Enum.GetNames<JobKind>())}.");
            }
            query = query.Where(j => j.Kind == k);
        }
        var (number, size) = Paging.Clamp(page, pageSize);
        var total = await query.CountAsync(ct);
        var jobs = await query.OrderBy(j => j.MappingId).ThenBy(j => j.Kind).Skip((number - 1) * size).Take(size).ToListAsync(ct);
        return Results.Ok(new Page<JobView>(jobs.Select(JobView.From).ToList(), total, number, size));
    }
}
