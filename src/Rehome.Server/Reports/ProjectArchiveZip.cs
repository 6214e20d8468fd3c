using System.Globalization;
using System.IO.Compression;
using Microsoft.EntityFrameworkCore;
using Rehome.Server.Store;

namespace Rehome.Server.Reports;

/// <summary>
/// Renders a project's reports into one zip, with the same writers as the downloads: the project report (CSV and
/// printable HTML, its run links pointing into the zip), every run's report (CSV and HTML, under <c>runs/</c>) and
/// the project's audit entries as CSV (the project, its runs, its mappings and their jobs), which only a caller whose
/// role reads the audit downloads (<see cref="WithoutAudit"/>).
/// </summary>
public static class ProjectArchiveZip
{
    public const string ProjectCsv = "project-report.csv";
    public const string ProjectHtml = "project-report.html";
    public const string AuditCsv = "audit.csv";

    /// <summary>A run's entries under <c>runs/</c>: its creation time and id, so that they sort in the order the runs came.</summary>
    public static string RunEntry(DateTimeOffset createdAt, Guid runId, string extension) =>
        $"runs/{createdAt.ToUniversalTime().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}-{runId:N}.{extension}";

    /// <summary>The zip's bytes; null when the project does not exist.</summary>
    public static async Task<byte[]?> RenderAsync(RehomeDbContext db, ReportQueries reports, Guid projectId, CancellationToken ct)
    {
        if (await reports.ProjectAsync(projectId, ct) is not { } project)
        {
            return null;
        }
        var runs = project.Runs.ToDictionary(r => r.Run.Id, r => r.Run.CreatedAt);
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            await WriteAsync(zip, ProjectCsv, body => ReportCsv.WriteProjectAsync(body, project, reports.ProjectFailures(projectId), ct));
            await WriteAsync(zip, ProjectHtml, body => ReportHtml.WriteProjectAsync(body, project, reports.ProjectFailures(projectId),
                id => runs.TryGetValue(id, out var at) ? RunEntry(at, id, "html") : "#", ct));
            foreach (var (runId, createdAt) in runs)
            {
                if (await reports.RunAsync(runId, ct) is not { } run)
                {
                    continue;
                }
                await WriteAsync(zip, RunEntry(createdAt, runId, "csv"), body => ReportCsv.WriteRunAsync(body, run, reports.RunFailures(runId), ct));
                await WriteAsync(zip, RunEntry(createdAt, runId, "html"), body => ReportHtml.WriteRunAsync(body, run, reports.RunFailures(runId), ct));
            }
            await WriteAsync(zip, AuditCsv, body => WriteAuditAsync(body, db, projectId, [.. runs.Keys], ct));
        }
        return buffer.ToArray();
    }

    /// <summary>The zip without its <see cref="AuditCsv"/>, for a caller who may read the reports but not the audit.</summary>
    public static byte[] WithoutAudit(byte[] archive)
    {
        using var source = new ZipArchive(new MemoryStream(archive), ZipArchiveMode.Read);
        using var buffer = new MemoryStream();
        using (var copy = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in source.Entries.Where(e => e.FullName != AuditCsv))
            {
                using var from = entry.Open();
                using var to = copy.CreateEntry(entry.FullName, CompressionLevel.Fastest).Open();
                from.CopyTo(to);
            }
        }
        return buffer.ToArray();
    }

    private static async Task WriteAsync(ZipArchive zip, string name, Func<Stream, Task> write)
    {
        await using var entry = zip.CreateEntry(name, CompressionLevel.Optimal).Open();
        await write(entry);
    }

    /// <summary>
    /// The audit entries about the project, its runs, its mappings and their jobs, oldest first. Targets are read in
    /// keyset batches and matched here against the project's ids: one pass, whatever the number of mappings.
    /// </summary>
    private static async Task WriteAuditAsync(Stream body, RehomeDbContext db, Guid projectId, IReadOnlyList<Guid> runIds, CancellationToken ct)
    {
        var targets = new HashSet<string>(StringComparer.Ordinal) { $"project:{projectId}" };
        targets.UnionWith(runIds.Select(id => $"run:{id}"));
        targets.UnionWith((await db.StoredMappings.AsNoTracking().Where(m => m.ProjectId == projectId).Select(m => m.Id).ToListAsync(ct)).Select(id => $"mapping:{id}"));
        targets.UnionWith((await db.Jobs.AsNoTracking().Where(j => j.ProjectId == projectId).Select(j => j.Id).ToListAsync(ct)).Select(id => $"job:{id}"));
        var about = db.AuditLog.AsNoTracking().Where(a => a.Target.StartsWith("project:") || a.Target.StartsWith("run:")
            || a.Target.StartsWith("mapping:") || a.Target.StartsWith("job:"));
        await AuditExport.WriteAsync(body, about, e => targets.Contains(e.Target), ct);
    }
}
