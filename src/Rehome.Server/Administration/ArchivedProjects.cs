using Microsoft.EntityFrameworkCore;
using Rehome.Core.Cleanup;
using Rehome.Server.Store;

namespace Rehome.Server.Administration;

/// <summary>The one check every change to a project or its mappings makes: an archived project refuses it, naming the rule.</summary>
public static class ArchivedProjects
{
    /// <summary>
    /// The rule's refusal of <paramref name="action"/> when the project is archived; null otherwise (or when it does not
    /// exist: the caller says so). Asked before the project's lock for an early 409, and again under it (see <see cref="ProjectLock"/>).
    /// </summary>
    public static async Task<ArchiveRefusal?> CheckAsync(RehomeDbContext db, Guid projectId, ArchivedAction action, CancellationToken ct)
    {
        var project = await db.Projects.AsNoTracking().Where(p => p.Id == projectId).Select(p => new { p.Name, p.ArchivedAt }).FirstOrDefaultAsync(ct);
        return project is null ? null : ArchiveRules.CheckChange(project.Name, project.ArchivedAt is not null, action);
    }

    /// <summary>The same as a 409 naming the rule.</summary>
    public static async Task<Failure?> RefuseAsync(RehomeDbContext db, Guid projectId, ArchivedAction action, CancellationToken ct) =>
        await CheckAsync(db, projectId, action, ct) is { } refusal ? Failure.Conflict(refusal.Rule, refusal.Message) : null;

    /// <summary>The same for a change to one mapping, through its project.</summary>
    public static async Task<Failure?> RefuseForMappingAsync(RehomeDbContext db, Guid mappingId, ArchivedAction action, CancellationToken ct)
    {
        var projectId = await db.StoredMappings.AsNoTracking().Where(m => m.Id == mappingId).Select(m => (Guid?)m.ProjectId).FirstOrDefaultAsync(ct);
        return projectId is { } id ? await RefuseAsync(db, id, action, ct) : null;
    }
}
