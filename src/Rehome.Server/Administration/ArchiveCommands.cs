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
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // The run engine's lock on the project: no run starts while the check and the archive are made.
        await store.ExecuteAsync("UPDATE projects SET updated_at = updated_at WHERE id = @project", ct, ("project", projectId));
        var project = await db.Projects.FirstOrDefaultAsync(p => p.Id == projectId, ct);
        if (project is null)
        {
            return Failure.NotFound($"Project {projectId}");
        }
        var active = await db.Mappings.Where(m => m.ProjectId == projectId)
            .Join(db.Jobs.Where(j => JobStatuses.Active.Contains(j.Status)), m => m.Id, j => j.MappingId, (m, j) => j.Id)
            .CountAsync(ct);
        if (ArchiveRules.CheckArchive(project.Name, project.ArchivedAt is not null, active) is { } refusal)
        {
            return Failure.Conflict(refusal.Rule, refusal.Message);
        }
        var now = time.GetUtcNow();
        var content = await ProjectArchiveZip.RenderAsync(db, reports, projectId, ct);
        var archive = new ProjectArchive
        {
            ProjectId = projectId,
            FileName = $"{MappingTransfer.SafeFileName(project.Name)}-archive-{now.ToUniversalTime():yyyyMMdd-HHmmss}.zip",
            Content = content!,
            CreatedAt = now,
            CreatedBy = audit.Actor,
        };
        await db.ProjectArchives.Where(a => a.ProjectId == projectId).ExecuteDeleteAsync(ct);
        db.ProjectArchives.Add(archive);
        project.ArchivedAt = now;
        project.ArchivedBy = audit.Actor;
        audit.Record("project.archive", $"project:{projectId}", $"'{project.Name}': reports kept in {archive.FileName} ({content!.Length} bytes)");
        await db.SaveChangesAsync(ct);
        await transaction.CommitRegardlessAsync();
        return new ProjectArchiveView(projectId, now, audit.Actor, archive.FileName, content.Length);
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

    /// <summary>The archived project's zip; 404 when the project does not exist or is not archived.</summary>
    public async Task<Outcome<ProjectArchiveFile>> DownloadAsync(Guid projectId, CancellationToken ct)
    {
        var archive = await db.ProjectArchives.AsNoTracking().Where(a => a.ProjectId == projectId)
            .Select(a => new ProjectArchiveFile(a.FileName, a.Content)).FirstOrDefaultAsync(ct);
        return archive is null ? Failure.NotFound($"The archive of project {projectId}") : archive;
    }
}
