using Microsoft.EntityFrameworkCore;
using Rehome.Core.Cleanup;
using Rehome.Core.Projects;
using Rehome.Core.Runs;
using Rehome.Server.Api;
using Rehome.Server.Audit;
using Rehome.Server.Auth;
using Rehome.Server.Gateway;
using Rehome.Server.Mappings;
using Rehome.Server.Store;

namespace Rehome.Server.Administration;

/// <summary>Lists, creates, changes and deletes projects: for the API and the console.</summary>
public sealed class ProjectCommands(RehomeDbContext db, AuditTrail audit, TimeProvider time, AgentRegistry registry, MappingCounts mappingCounts)
{
    public Task<IReadOnlyList<ProjectView>> ListAsync(CancellationToken ct) => ListAsync(archived: false, ct);

    /// <summary>The projects in use, or with <paramref name="archived"/> the archived ones (hidden from the default list).</summary>
    public Task<IReadOnlyList<ProjectView>> ListAsync(bool archived, CancellationToken ct) => ListWhereAsync(archived, ct);

    /// <summary>
    /// Every project, archived ones included: for the choices that stay meaningful after an archive (who may read
    /// it, whom its notifications reach).
    /// </summary>
    public Task<IReadOnlyList<ProjectView>> ListAllAsync(CancellationToken ct) => ListWhereAsync(null, ct);

    private async Task<IReadOnlyList<ProjectView>> ListWhereAsync(bool? archived, CancellationToken ct)
    {
        var projects = await db.Projects.AsNoTracking().Where(p => archived == null || (p.ArchivedAt != null) == archived).OrderBy(p => p.Name).ToListAsync(ct);
        var counts = await StatusCountsAsync(db, null, ct);
        return projects.Select(p => View(p, counts.GetValueOrDefault(p.Id))).ToList();
    }

    public async Task<ProjectView?> GetAsync(Guid id, CancellationToken ct)
    {
        var project = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id, ct);
        if (project is null)
        {
            return null;
        }
        return await CountedViewAsync(project, ct);
    }

    public async Task<Outcome<ProjectView>> CreateAsync(ProjectInput input, CancellationToken ct)
    {
        if (ProjectLimits.IsLimited(db))
        {
            // Limits say which projects an account reaches; a new project would widen them by itself.
            return Failure.ByRule(StatusCodes.Status403Forbidden, "Limited to some projects", "ProjectLimited",
                "This account is limited to some projects and cannot create one; ask an administrator to create it and add it to your projects.");
        }
        if (await ValidateAsync(input, null, ct) is { } problem)
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
        return View(project, null);
    }

    public async Task<Outcome<ProjectView>> UpdateAsync(Guid id, ProjectInput input, CancellationToken ct)
    {
        var project = await db.Projects.FirstOrDefaultAsync(p => p.Id == id, ct);
        if (project is null)
        {
            return Failure.NotFound($"Project {id}");
        }
        if (await ArchivedProjects.RefuseAsync(db, id, ArchivedAction.EditProject, ct) is { } archived)
        {
            return archived;
        }
        if (await ValidateAsync(input, id, ct) is { } problem)
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
        return await CountedViewAsync(project, ct);
    }

    /// <summary>The project with its mappings counted by status; the same reading gives the mappings grid its totals
    /// (unfiltered and per status) for the next 15 s.</summary>
    private async Task<ProjectView> CountedViewAsync(Project project, CancellationToken ct)
    {
        var counts = await StatusCountsAsync(db, project.Id, ct);
        var byStatus = counts.GetValueOrDefault(project.Id);
        if (byStatus is not null)
        {
            mappingCounts.Remember(project.Id, byStatus);
        }
        return View(project, byStatus);
    }

    public async Task<Outcome<bool>> DeleteAsync(Guid id, CancellationToken ct)
    {
        var project = await db.Projects.FirstOrDefaultAsync(p => p.Id == id, ct);
        if (project is null)
        {
            return Failure.NotFound($"Project {id}");
        }
        if (await ArchivedProjects.RefuseAsync(db, id, ArchivedAction.EditProject, ct) is { } archived)
        {
            return archived;
        }
        // Run items first (each stands for jobs that are all waiting: active), then rows, each probed by mapping: the
        // all_jobs view in a join is read whole on SQLite.
        var activeItems = await db.Mappings.Where(m => m.ProjectId == id).Join(db.RunItems, m => m.Id, i => i.MappingId, (m, i) => i.Kinds).ToListAsync(ct);
        var active = activeItems.Sum(kinds => System.Numerics.BitOperations.PopCount((uint)kinds)) + await db.Mappings.Where(m => m.ProjectId == id)
            .Join(db.StoredJobs.Where(j => JobStatuses.Active.Contains(j.Status)), m => m.Id, j => j.MappingId, (m, j) => j.Id)
            .CountAsync(ct);
        if (active > 0)
        {
            return Failure.Conflict("ProjectHasActiveJobs",
                $"The project '{project.Name}' has {active} job(s) waiting or in progress; stop its runs before deleting it.");
        }
        // An account limited to projects sees only those; were this project's row to go with it, an account limited to it
        // alone would have no limit left and see every project. Its limits change first, by an administrator.
        var limited = await db.AccountProjects.IgnoreQueryFilters().Where(p => p.ProjectId == id)
            .Join(db.Accounts, p => p.AccountId, a => a.Id, (p, a) => a.UserName).OrderBy(n => n).ToListAsync(ct);
        if (limited.Count > 0)
        {
            return Failure.Conflict("ProjectInAccountLimits",
                $"The accounts {string.Join(", ", limited.Take(10))}{(limited.Count > 10 ? " …" : "")} are limited to the project '{project.Name}': " +
                "an administrator removes it from their projects (or changes their limits) before the project is deleted.");
        }
        // Jobs carry no foreign key (see the store): they go first, in the same transaction.
        var agents = await db.Mappings.Where(m => m.ProjectId == id && m.AgentId != null).Select(m => m.AgentId!.Value).ToListAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await JobRecords.DeleteAsync(db, db.StoredJobs.Where(j => j.ProjectId == id), db.RunItems.Where(i => i.ProjectId == id), ct);
        db.Projects.Remove(project);
        audit.Record("project.delete", $"project:{id}", $"'{project.Name}'");
        await db.SaveChangesAsync(ct);
        await transaction.CommitRegardlessAsync();
        registry.MappingsRemoved(agents);
        return true;
    }

    private async Task<Failure?> ValidateAsync(ProjectInput input, Guid? id, CancellationToken ct)
    {
        var source = await db.Connections.AsNoTracking().FirstOrDefaultAsync(c => c.Id == input.SourceConnectionId, ct);
        var destination = await db.Connections.AsNoTracking().FirstOrDefaultAsync(c => c.Id == input.DestinationConnectionId, ct);
        var policyExists = await db.Policies.AnyAsync(p => p.Id == input.PolicyId, ct);
        var violations = ProjectRules.Validate(input.Name, input.Tags, source, destination, policyExists);
        if (violations.Count > 0)
        {
            return Failure.Validation(violations);
        }
        var name = input.Name!.Trim();
        return await db.Projects.AnyAsync(p => p.Name == name && p.Id != id, ct)
            ? Failure.Conflict("NameTaken", $"A project named '{name}' already exists.")
            : null;
    }

    private static ProjectView View(Project p, Dictionary<string, int>? counts) => new(
        p.Id, p.Name, p.Tags, p.SourceConnectionId, p.DestinationConnectionId, p.PolicyId,
        counts?.Values.Sum() ?? 0, counts ?? [], p.CreatedAt, p.UpdatedAt)
    {
        ArchivedAt = p.ArchivedAt,
        ArchivedBy = p.ArchivedBy,
    };

    private static async Task<Dictionary<Guid, Dictionary<string, int>>> StatusCountsAsync(RehomeDbContext db, Guid? projectId, CancellationToken ct)
    {
        // From the table when no run item shows over its rows (MappingsOfAsync), for one project or all.
        var query = (projectId is { } id ? await db.MappingsOfAsync(id, ct) : await db.AllMappingsAsync(ct)).AsNoTracking();
        var rows = await query.GroupBy(m => new { m.ProjectId, m.Status })
            .Select(g => new { g.Key.ProjectId, g.Key.Status, Count = g.Count() })
            .ToListAsync(ct);
        return rows.GroupBy(r => r.ProjectId).ToDictionary(
            g => g.Key,
            g => g.ToDictionary(r => r.Status?.ToString() ?? MappingQuery.NotStarted, r => r.Count));
    }
}
