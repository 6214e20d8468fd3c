using Microsoft.EntityFrameworkCore;
using Rehome.Core.Projects;
using Rehome.Core.Runs;
using Rehome.Server.Audit;
using Rehome.Server.Store;

namespace Rehome.Server.Api;

public sealed record ProjectInput(string? Name, List<string>? Tags, Guid SourceConnectionId, Guid DestinationConnectionId, Guid PolicyId);

/// <summary>A project with how many of its mappings stand in each status (<c>NotStarted</c> for those never run).</summary>
public sealed record ProjectView(
    Guid Id, string Name, IReadOnlyList<string> Tags, Guid SourceConnectionId, Guid DestinationConnectionId, Guid PolicyId,
    int MappingCount, IReadOnlyDictionary<string, int> MappingsByStatus, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>/api/v1/projects.</summary>
public static class ProjectsApi
{
    public const string NotStarted = "NotStarted";

    public static RouteGroupBuilder MapProjectsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/projects").WithTags("Projects");
        group.MapGet("/", ListAsync).WithName("ListProjects");
        group.MapGet("/{id:guid}", GetAsync).WithName("GetProject");
        group.MapPost("/", CreateAsync).WithName("CreateProject");
        group.MapPut("/{id:guid}", UpdateAsync).WithName("UpdateProject");
        group.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteProject");
        return api;
    }

    private static async Task<IResult> ListAsync(RehomeDbContext db, CancellationToken ct)
    {
        var projects = await db.Projects.AsNoTracking().OrderBy(p => p.Name).ToListAsync(ct);
        var counts = await StatusCountsAsync(db, null, ct);
        return Results.Ok(projects.Select(p => View(p, counts.GetValueOrDefault(p.Id))));
    }

    private static async Task<IResult> GetAsync(Guid id, RehomeDbContext db, CancellationToken ct)
    {
        var project = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id, ct);
        if (project is null)
        {
            return Problems.NotFound($"Project {id}");
        }
        var counts = await StatusCountsAsync(db, id, ct);
        return Results.Ok(View(project, counts.GetValueOrDefault(id)));
    }

    private static async Task<IResult> CreateAsync(ProjectInput input, RehomeDbContext db, AuditTrail audit, TimeProvider time, CancellationToken ct)
    {
        if (await ValidateAsync(input, null, db, ct) is { } problem)
        {
            return problem;
        }
        var now = time.GetUtcNow();
        var project = new Project
        {
            Id = Guid.CreateVersion7(now),
            Name = input.Name!.Trim(),
            Tags = input.Tags ?? [],
            SourceConnectionId = input.SourceConnectionId,
            DestinationConnectionId = input.DestinationConnectionId,
            PolicyId = input.PolicyId,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Projects.Add(project);
        audit.Record("project.create", $"project:{project.Id}", $"'{project.Name}'");
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/projects/{project.Id}", View(project, null));
    }

    private static async Task<IResult> UpdateAsync(Guid id, ProjectInput input, RehomeDbContext db, AuditTrail audit, TimeProvider time, CancellationToken ct)
    {
        var project = await db.Projects.FirstOrDefaultAsync(p => p.Id == id, ct);
        if (project is null)
        {
            return Problems.NotFound($"Project {id}");
        }
        if (await ValidateAsync(input, id, db, ct) is { } problem)
        {
            return problem;
        }
        if (project.DestinationConnectionId != input.DestinationConnectionId)
        {
            // A new destination: no device of the project has rejoined it yet.
            await db.Mappings.Where(m => m.ProjectId == id).ExecuteUpdateAsync(s => s.SetProperty(m => m.RejoinedAt, (DateTimeOffset?)null), ct);
        }
        project.Name = input.Name!.Trim();
        project.Tags = input.Tags ?? project.Tags;
        project.SourceConnectionId = input.SourceConnectionId;
        project.DestinationConnectionId = input.DestinationConnectionId;
        project.PolicyId = input.PolicyId;
        project.UpdatedAt = time.GetUtcNow();
        audit.Record("project.update", $"project:{id}", $"'{project.Name}'");
        await db.SaveChangesAsync(ct);
        var counts = await StatusCountsAsync(db, id, ct);
        return Results.Ok(View(project, counts.GetValueOrDefault(id)));
    }

    private static async Task<IResult> DeleteAsync(Guid id, RehomeDbContext db, AuditTrail audit, CancellationToken ct)
    {
        var project = await db.Projects.FirstOrDefaultAsync(p => p.Id == id, ct);
        if (project is null)
        {
            return Problems.NotFound($"Project {id}");
        }
        var active = await db.Mappings.Where(m => m.ProjectId == id)
            .Join(db.Jobs.Where(j => JobStatuses.Active.Contains(j.Status)), m => m.Id, j => j.MappingId, (m, j) => j.Id)
            .CountAsync(ct);
        if (active > 0)
        {
            return Problems.Conflict("ProjectHasActiveJobs",
                $"The project '{project.Name}' has {active} job(s) waiting or in progress; stop its runs before deleting it.");
        }
        // Jobs carry no foreign key (see the store): they go first, in the same transaction.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await JobRecords.DeleteAsync(db, db.Jobs.Where(j => j.ProjectId == id), ct);
        db.Projects.Remove(project);
        audit.Record("project.delete", $"project:{id}", $"'{project.Name}'");
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return Results.NoContent();
    }

    private static async Task<IResult?> ValidateAsync(ProjectInput input, Guid? id, RehomeDbContext db, CancellationToken ct)
    {
        var source = await db.Connections.AsNoTracking().FirstOrDefaultAsync(c => c.Id == input.SourceConnectionId, ct);
        var destination = await db.Connections.AsNoTracking().FirstOrDefaultAsync(c => c.Id == input.DestinationConnectionId, ct);
        var policyExists = await db.Policies.AnyAsync(p => p.Id == input.PolicyId, ct);
        var violations = ProjectRules.Validate(input.Name, input.Tags, source, destination, policyExists);
        if (violations.Count > 0)
        {
            return Problems.Validation(violations);
        }
        var name = input.Name!.Trim();
        return await db.Projects.AnyAsync(p => p.Name == name && p.Id != id, ct)
            ? Problems.Conflict("NameTaken", $"A project named '{name}' already exists.")
            : null;
    }

    private static ProjectView View(Project p, Dictionary<string, int>? counts) => new(
        p.Id, p.Name, p.Tags, p.SourceConnectionId, p.DestinationConnectionId, p.PolicyId,
        counts?.Values.Sum() ?? 0, counts ?? [], p.CreatedAt, p.UpdatedAt);

    private static async Task<Dictionary<Guid, Dictionary<string, int>>> StatusCountsAsync(RehomeDbContext db, Guid? projectId, CancellationToken ct)
    {
        var query = db.Mappings.AsNoTracking();
        if (projectId is { } id)
        {
            query = query.Where(m => m.ProjectId == id);
        }
        var rows = await query.GroupBy(m => new { m.ProjectId, m.Status })
            .Select(g => new { g.Key.ProjectId, g.Key.Status, Count = g.Count() })
            .ToListAsync(ct);
        return rows.GroupBy(r => r.ProjectId).ToDictionary(
            g => g.Key,
            g => g.ToDictionary(r => r.Status?.ToString() ?? NotStarted, r => r.Count));
    }
}
