using System.Globalization;
using Rehome.Server.Auth;
using Rehome.Server.Console;
using Rehome.Server.Mappings;
using Rehome.Server.Reports;
using Rehome.Server.Store;

namespace Rehome.Server.Api;

/// <summary>
/// Reports to hand on: /api/v1/runs/{id}/report(.csv), /api/v1/projects/{id}/report(.csv) and
/// /api/v1/audit/export.csv, and the same for the console's cookie under /console. The report's totals are read
/// (and a missing run or project answered 404) before the first byte; the rows are then written as they are read.
/// </summary>
public static class ReportsApi
{
    private const string Csv = "text/csv; charset=utf-8";
    private const string Html = "text/html; charset=utf-8";

    public static RouteGroupBuilder MapReportsApi(this RouteGroupBuilder api)
    {
        Map(api.MapGroup("/").WithTags("Reports"), runLink: null, (endpoint, role, name, summary) =>
        {
            endpoint.WithName(name).RequireRole(role).Produces<string>(200, name.StartsWith("Export", StringComparison.Ordinal) ? "text/csv" : "text/html");
            if (summary is not null)
            {
                endpoint.WithSummary(summary);
            }
        });
        return api;
    }

    /// <summary>The same reports for the console's cookie (the API is bearer-only), with the same roles.</summary>
    public static WebApplication MapConsoleReports(this WebApplication app)
    {
        Map(app.MapGroup("/console").ExcludeFromDescription(), ConsoleRunLink, (endpoint, role, _, _) =>
            endpoint.RequireAuthorization(ConsoleServiceCollectionExtensions.PolicyName, RoleAuthorization.ConsolePolicyFor(role)));
        return app;
    }

    /// <summary>Maps the five reports on <paramref name="group"/>; <paramref name="declare"/> says who may call each (role, OpenAPI name, summary).</summary>
    private static void Map(RouteGroupBuilder group, Func<Guid, string>? runLink, Action<RouteHandlerBuilder, Role, string, string?> declare)
    {
        declare(group.MapGet("/runs/{id:guid}/report", (Guid id, HttpContext http, ReportQueries reports, CancellationToken ct) =>
                RunAsync(id, http, reports, html: true, ct)),
            Role.Viewer, "GetRunReport",
            "A run's printable report (HTML: Print → PDF): jobs by status, durations, Re-ACL areas, every failure with its reason and advice.");
        declare(group.MapGet("/runs/{id:guid}/report.csv", (Guid id, HttpContext http, ReportQueries reports, CancellationToken ct) =>
                RunAsync(id, http, reports, html: false, ct)),
            Role.Viewer, "ExportRunReport", "A run's report as CSV, one table whose Section column says what each row is.");
        declare(group.MapGet("/projects/{id:guid}/report", (Guid id, HttpContext http, ReportQueries reports, CancellationToken ct) =>
                ProjectAsync(id, http, reports, html: true, runLink, ct)),
            Role.Viewer, "GetProjectReport", "A project's printable report: mappings by state, runs with their counts, the failures still standing.");
        declare(group.MapGet("/projects/{id:guid}/report.csv", (Guid id, HttpContext http, ReportQueries reports, CancellationToken ct) =>
                ProjectAsync(id, http, reports, html: false, runLink: null, ct)),
            Role.Viewer, "ExportProjectReport", null);
        declare(group.MapGet("/audit/export.csv", (string? actor, string? action, DateTimeOffset? from, DateTimeOffset? to, RehomeDbContext db, TimeProvider time,
                CancellationToken ct) => Audit(new AuditExportFilter(actor, action, from, to), db, time, ct)),
            Role.Auditor, "ExportAudit", "The audit log as CSV, oldest first: by actor, by action prefix, from (inclusive) to (exclusive).");
    }

    /// <summary>Where the console shows a run's printable report.</summary>
    public static string ConsoleRunLink(Guid runId) => $"/console/runs/{runId}/report";

    private static async Task<IResult> RunAsync(Guid id, HttpContext http, ReportQueries reports, bool html, CancellationToken ct)
    {
        if (await reports.RunAsync(id, ct) is not { } report)
        {
            return Problems.NotFound($"Run {id}");
        }
        if (html)
        {
            return Page(http, body => ReportHtml.WriteRunAsync(body, report, reports.RunFailures(id), ct));
        }
        var name = $"{MappingTransfer.SafeFileName(report.ProjectName)}-run-{Stamp(report.Run.CreatedAt)}.csv";
        return Results.Stream(body => ReportCsv.WriteRunAsync(body, report, reports.RunFailures(id), ct), Csv, name);
    }

    private static async Task<IResult> ProjectAsync(Guid id, HttpContext http, ReportQueries reports, bool html, Func<Guid, string>? runLink, CancellationToken ct)
    {
        if (await reports.ProjectAsync(id, ct) is not { } report)
        {
            return Problems.NotFound($"Project {id}");
        }
        if (html)
        {
            return Page(http, body => ReportHtml.WriteProjectAsync(body, report, reports.ProjectFailures(id), runLink, ct));
        }
        var name = $"{MappingTransfer.SafeFileName(report.Name)}-report-{Stamp(report.GeneratedAt)}.csv";
        return Results.Stream(body => ReportCsv.WriteProjectAsync(body, report, reports.ProjectFailures(id), ct), Csv, name);
    }

    private static IResult Audit(AuditExportFilter filter, RehomeDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (filter.Check() is { } problem)
        {
            return Problems.Validation([problem]);
        }
        return Results.Stream(body => AuditExport.WriteAsync(body, db, filter, ct), Csv, $"rehome-audit-{Stamp(time.GetUtcNow())}.csv");
    }

    /// <summary>A printable page under its own Content-Security-Policy: no script may run, only its style sheet applies.</summary>
    private static IResult Page(HttpContext http, Func<Stream, Task> write)
    {
        http.Response.Headers.ContentSecurityPolicy = HtmlPage.ContentSecurityPolicy;
        return Results.Stream(write, Html);
    }

    private static string Stamp(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
}
