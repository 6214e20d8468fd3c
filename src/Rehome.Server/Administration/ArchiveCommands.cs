using Microsoft.EntityFrameworkCore;
using Rehome.Core.Cleanup;
using Rehome.Core.Runs;
using Rehome.Server.Audit;
using Rehome.Server.Mappings;
using Rehome.Server.Reports;
using Rehome.Server.Store;

namespace Rehome.Server.Administration;

/// <summary>What an archive answers: when, by whom, and the zip's name and size.</summary>
public sealed record ProjectArchiveView(Guid ProjectId, DateTimeOffset ArchivedAt, string ArchivedBy, string FileName, long SizeBytes);

/// <summary>The archive to download.</summary>
public sealed record ProjectArchiveFile(string FileName, byte[] Content);

/// <summary>
/// Archives a project once nothing waits or runs in it: its reports are rendered into one zip kept with it (see
/// <see cref="ProjectArchive"/>) and it becomes read-only (<see cref="ArchivedProjects"/>); unarchiving makes it
/// editable again and drops the zip, which would no longer tell the truth once the project changes.
/// </summary>
public sealed class ArchiveCommands(RehomeDbContext db, StoreCommands store, ReportQueries reports, AuditTrail audit, TimeProvider time)
{
    public async Task<Outcome<ProjectArchiveView>> ArchiveAsync(Guid projectId, CancellationToken ct)
    {
        // Asked first, so that a refusal costs no rendering; asked again under the lock.
        if (await StateAsync(projectId, ct) is not { } rendered)
        {
            return Failure.NotFound($"Project {projectId}");
        }
        if (ArchiveRules.CheckArchive(rendered.Name, rendered.Archived, rendered.ActiveJobs) is { } early)
        {
            return Failure.Conflict(early.Rule, early.Message);
        }
        // Rendered before the project's lock: on SQLite the lock is the database's write lock, and every gateway write
        // would wait for the zip. Under the lock the project must be as it was rendered, or the zip is not kept.
        var content = await ProjectArchiveZip.RenderAsync(db, reports, projectId, ct);
        await using var transaction = await ProjectLock.TakeAsync(db, store, projectId, ct);
        var project = await db.Projects.FirstOrDefaultAsync(p => p.Id == projectId, ct);
        if (project is null || content is null || await StateAsync(projectId, ct) is not { } locked)
        {
            return Failure.NotFound($"Project {projectId}");
        }
        if ((ArchiveRules.CheckArchive(locked.Name, locked.Archived, locked.ActiveJobs) ?? ArchiveRules.CheckUnchanged(locked.Name, locked == rendered)) is { } refusal)
        {
            return Failure.Conflict(refusal.Rule, refusal.Message);
        }
        var now = time.GetUtcNow();
        var archive = new ProjectArchive
        {
            ProjectId = projectId,
            FileName = $"{MappingTransfer.SafeFileName(project.Name)}-archive-{now.ToUniversalTime():yyyyMMdd-HHmmss}.zip",
            Content = content,
            CreatedAt = now,
            CreatedBy = audit.Actor,
        };
        await db.ProjectArchives.Where(a => a.ProjectId == projectId).ExecuteDeleteAsync(ct);
        db.ProjectArchives.Add(archive);
        project.ArchivedAt = now;
        project.ArchivedBy = audit.Actor;
        audit.Record("project.archive", $"project:{projectId}", $"'{project.Name}': reports kept in {archive.FileName} ({content.Length} bytes)");
        await db.SaveChangesAsync(ct);
        await transaction.CommitRegardlessAsync();
        return new ProjectArchiveView(projectId, now, audit.Actor, archive.FileName, content.Length);
    }

    /// <summary>What the zip shows of the project, and whether it may be archived: equal before the render and under the lock, or the zip is stale.</summary>
    private sealed record ArchiveState(
        string Name, bool Archived, DateTimeOffset UpdatedAt, int ActiveJobs, int Runs, DateTimeOffset? LastRunAt, int Mappings, DateTimeOffset? LastMappingChange);

    private async Task<ArchiveState?> StateAsync(Guid projectId, CancellationToken ct)
    {
        var project = await db.Projects.AsNoTracking().Where(p => p.Id == projectId)
            .Select(p => new { p.Name, p.ArchivedAt, p.UpdatedAt }).FirstOrDefaultAsync(ct);
        if (project is null)
        {
            return null;
        }
        var mappings = (await db.MappingsOfAsync(projectId, ct)).AsNoTracking();
        var runs = db.Runs.AsNoTracking().Where(r => r.ProjectId == projectId);
        return new ArchiveState(
            project.Name, project.ArchivedAt is not null, project.UpdatedAt,
            await db.Jobs.AsNoTracking().CountAsync(j => j.ProjectId == projectId && JobStatuses.Active.Contains(j.Status), ct),
            await runs.CountAsync(ct), await runs.MaxAsync(r => (DateTimeOffset?)r.CreatedAt, ct),
            await mappings.CountAsync(ct), await mappings.MaxAsync(m => (DateTimeOffset?)m.UpdatedAt, ct));
    }

    public async Task<Outcome<bool>> UnarchiveAsync(Guid projectId, CancellationToken ct)
    {
        var project = await db.Projects.FirstOrDefaultAsync(p => p.Id == projectId, ct);
        if (project is null)
        {
            return Failure.NotFound($"Project {projectId}");
        }
        if (ArchiveRules.CheckUnarchive(project.Name, project.ArchivedAt is not null) is { } refusal)
        {
            return Failure.Conflict(refusal.Rule, refusal.Message);
        }
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.ProjectArchives.Where(a => a.ProjectId == projectId).ExecuteDeleteAsync(ct);
        project.ArchivedAt = null;
        project.ArchivedBy = null;
        project.UpdatedAt = time.GetUtcNow();
        audit.Record("project.unarchive", $"project:{projectId}", $"'{project.Name}'");
        await db.SaveChangesAsync(ct);
        await transaction.CommitRegardlessAsync();
        return true;
    }

    /// <summary>
    /// The archived project's zip; 404 when the project does not exist or is not archived. Its <c>audit.csv</c> only for
    /// a caller whose role reads the audit (<paramref name="withAudit"/>): the others get the reports alone.
    /// </summary>
    public async Task<Outcome<ProjectArchiveFile>> DownloadAsync(Guid projectId, bool withAudit, CancellationToken ct)
    {
        var archive = await db.ProjectArchives.AsNoTracking().Where(a => a.ProjectId == projectId)
            .Select(a => new ProjectArchiveFile(a.FileName, a.Content)).FirstOrDefaultAsync(ct);
        if (archive is null)
        {
            return Failure.NotFound($"The archive of project {projectId}");
        }
        return withAudit ? archive : archive with { Content = ProjectArchiveZip.WithoutAudit(archive.Content) };
    }
}
