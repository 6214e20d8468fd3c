using Microsoft.EntityFrameworkCore;
using Rehome.Core.Runs;
using Rehome.Core.Validation;
using Rehome.Server.Administration;
using Rehome.Server.Auth;
using Rehome.Server.Mappings;
using Rehome.Server.Runs;
using Rehome.Server.Store;

namespace Rehome.Server.Api;

/// <summary>
/// Start a run: job kinds, and either explicit mapping ids or a filter ("everything matching this filter").
/// <c>StartAt</c> in the future schedules the run. <c>DryRun</c> (permissions and profile only) previews on each
/// device what the jobs would change, changing nothing.
/// </summary>
public sealed record StartRunInput(List<JobKind>? Kinds, List<Guid>? MappingIds, MappingFilter? Filter, DateTimeOffset? StartAt, bool DryRun = false);

public sealed record RerunInput(List<JobKind>? Kinds);

/// <summary>The answer to a run start or preview: how many jobs start, on how many mappings, and every refusal.</summary>
public sealed record RunStartResult(
    RunView? Run, int JobCount, int MappingCount, bool Scheduled, DateTimeOffset StartAt, int RefusedCount, IReadOnlyList<Refusal> Refusals);

public sealed record StopResult(int StoppedNow, int StopRequested);

/// <summary>The mappings whose jobs to stop: explicit ids, or a filter ("everything matching this filter"), as a run's start takes them.</summary>
public sealed record StopSelectionInput(List<Guid>? MappingIds, MappingFilter? Filter);

/// <summary>/api/v1/projects/{id}/runs, /api/v1/runs, /api/v1/jobs.</summary>
public static class RunsApi
{
    public static RouteGroupBuilder MapRunsApi(this RouteGroupBuilder api)
    {
        var inProject = api.MapGroup("/projects/{projectId:guid}/runs").WithTags("Runs");
        inProject.MapPost("/", async (Guid projectId, StartRunInput input, RunCommands runs, CancellationToken ct) =>
                (await runs.StartAsync(projectId, input, false, ct)).ToResult(ToResult))
            .WithName("StartRun").RequireRole(Role.Operator).WithSummary("Starts (or schedules) a run; refused jobs are listed with their reasons.");
        inProject.MapPost("/preview", async (Guid projectId, StartRunInput input, RunCommands runs, CancellationToken ct) =>
                (await runs.StartAsync(projectId, input, true, ct)).ToResult(o => o.RunRefused is null ? Results.Ok(Result(o)) : ToResult(o)))
            .WithName("PreviewRun").RequireRole(Role.Operator).WithSummary("What a run would start and refuse, without starting anything (the confirmation).");
        api.MapPost("/projects/{projectId:guid}/jobs/stop", async (Guid projectId, StopSelectionInput input, RunCommands runs, CancellationToken ct) =>
                (await runs.StopSelectionAsync(projectId, input, ct)).ToResult(r => Results.Ok(r)))
            .WithTags("Runs").WithName("StopSelection").RequireRole(Role.Operator)
            .WithSummary("Stops the jobs not over of many mappings at once (ids or a filter): waiting jobs stop now, running ones are asked to stop.");
        inProject.MapGet("/", async (Guid projectId, int? page, int? pageSize, RehomeDbContext db, CancellationToken ct) =>
        {
            var (number, size) = Paging.Clamp(page, pageSize);
            var query = db.Runs.AsNoTracking().Where(r => r.ProjectId == projectId);
            var total = await query.CountAsync(ct);
            var runs = await query.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).Skip((number - 1) * size).Take(size).ToListAsync(ct);
            return Results.Ok(new Page<RunView>(runs.Select(RunView.From).ToList(), total, number, size));
        }).WithName("ListRuns").RequireRole(Role.Viewer);

        var runs = api.MapGroup("/runs").WithTags("Runs");
        runs.MapGet("/{id:guid}", GetRunAsync).WithName("GetRun").RequireRole(Role.Viewer);
        runs.MapGet("/{id:guid}/jobs", ListJobsAsync).WithName("ListRunJobs").RequireRole(Role.Viewer);
        runs.MapPost("/{id:guid}/stop", async (Guid id, RunCommands commands, CancellationToken ct) =>
            (await commands.StopRunAsync(id, ct)).ToResult(r => Results.Ok(r))).WithName("StopRun").RequireRole(Role.Operator);
        runs.MapPost("/{id:guid}/rerun", async (Guid id, RerunInput? input, RunCommands commands, CancellationToken ct) =>
            (await commands.RerunRunAsync(id, input?.Kinds, ct)).ToResult(ToResult))
            .WithName("RerunRun").RequireRole(Role.Operator).WithSummary("Runs again the jobs of this run that ended Failed, Exceptions or Stopped.");

        var jobs = api.MapGroup("/jobs").WithTags("Runs");
        jobs.MapGet("/{id:guid}", async (Guid id, RehomeDbContext db, CancellationToken ct) =>
            await db.FindJobAsync(id, ct) is { } job
                ? Results.Ok(JobView.From(job))
                : Problems.NotFound($"Job {id}")).WithName("GetJob").RequireRole(Role.Viewer);
        jobs.MapPost("/{id:guid}/stop", async (Guid id, RunCommands commands, CancellationToken ct) =>
            (await commands.StopJobAsync(id, ct)).ToResult(r => Results.Ok(r))).WithName("StopJob").RequireRole(Role.Operator);
        jobs.MapPost("/{id:guid}/rerun", async (Guid id, RunCommands commands, CancellationToken ct) =>
            (await commands.RerunJobAsync(id, ct)).ToResult(ToResult)).WithName("RerunJob").RequireRole(Role.Operator);
        jobs.MapPost("/{id:guid}/revert", async (Guid id, RunCommands commands, CancellationToken ct) =>
                (await commands.RevertJobAsync(id, ct)).ToResult(ToResult))
            .WithName("RevertJob").RequireRole(Role.Operator)
            .WithSummary("Reverts a finished permissions or profile job on its device: a new run of one job that restores what it changed.");
        return api;
    }

    private static IResult ToResult(RunStartOutcome outcome)
    {
        if (outcome.RunRefused is { } refused)
        {
            // A refusal that names no field of its own is about what was asked for: the kinds (a re-run's one input).
            var failure = Failure.ByRule(StatusCodes.Status400BadRequest, "The run was refused; nothing started", refused.Rule, refused.Message);
            return Problems.From(failure with { Errors = [new RuleViolation(refused.Field ?? "kinds", refused.Rule, refused.Message)] });
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

    private static async Task<IResult> GetRunAsync(Guid id, RehomeDbContext db, StoreCommands store, CancellationToken ct)
    {
        var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct);
        if (run is null)
        {
            return Problems.NotFound($"Run {id}");
        }
        var counts = await RunJobCounts.OfRunAsync(store, id, ct);
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
