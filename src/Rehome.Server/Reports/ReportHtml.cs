using System.Globalization;
using Rehome.Core.Runs;

namespace Rehome.Server.Reports;

/// <summary>
/// The run and project reports as one printable page each (the browser's Print → PDF makes the PDF): no script, no
/// front-end build, one style sheet with a print section. <c>runLink</c> makes each run of a project a link to its
/// own report (the console's address), or plain text when null.
/// </summary>
public static class ReportHtml
{
    public static async Task WriteRunAsync(Stream body, RunReport report, IAsyncEnumerable<FailureRow> failures, CancellationToken ct)
    {
        var page = new HtmlPage(body);
        var run = report.Run;
        page.Start($"Run report · {report.ProjectName}")
            .Raw("<h1>Run report</h1><p class=\"muted\">Project ").Text(report.ProjectName).Raw(" · run ").Text(run.Id.ToString())
            .Raw(" · generated ").Text(Time(report.GeneratedAt)).Raw("</p>\n<table><tbody>")
            .Raw("<tr><th scope=\"row\">Requested by</th>").Cell(run.RequestedBy).Raw("</tr>")
            .Raw("<tr><th scope=\"row\">Jobs</th>").Cell(string.Join(", ", run.Kinds.Select(k => k.DisplayName())) + (run.DryRun ? " (dry run: changed nothing)" : "")).Raw("</tr>")
            .Raw("<tr><th scope=\"row\">Mappings · jobs</th>").Cell($"{Count(run.MappingCount)} · {Count(run.JobCount)}").Raw("</tr>")
            .Raw("<tr><th scope=\"row\">Started</th>").Cell(Time(run.StartAt)).Raw("</tr>")
            .Raw("<tr><th scope=\"row\">Ended</th>").Cell(report.End is { } end ? $"{Time(end)} (took {Duration(end - run.StartAt)})" : "not over yet").Raw("</tr>")
            .Raw("</tbody></table>\n");
        WriteTotals(page, report.Jobs, "Jobs by status");
        await WriteFailuresAsync(page, failures, "Failures", ct);
        page.End();
        await page.FlushAsync();
    }

    public static async Task WriteProjectAsync(
        Stream body, ProjectReport report, IAsyncEnumerable<FailureRow> failures, Func<Guid, string>? runLink, CancellationToken ct)
    {
        var page = new HtmlPage(body);
        page.Start($"Project report · {report.Name}")
            .Raw("<h1>Project report: ").Text(report.Name).Raw("</h1><p class=\"muted\">Generated ").Text(Time(report.GeneratedAt)).Raw("</p>\n")
            .Raw($"<h2>Mappings by state</h2><table><thead><tr><th scope=\"col\">Stage</th><th scope=\"col\">Status</th><th scope=\"col\" class=\"n\">Mappings</th></tr></thead><tbody>");
        foreach (var m in report.Mappings)
        {
            page.Raw("<tr>").Cell(m.Stage?.DisplayName() ?? "—").Cell(m.Status?.DisplayName() ?? "Not started").Cell(Count(m.Count), "n").Raw("</tr>");
        }
        page.Raw("<tr><th scope=\"row\" colspan=\"2\">All</th>").Cell(Count(report.MappingCount), "n").Raw("</tr></tbody></table>\n")
            .Raw("<h2>Runs</h2><table><thead><tr><th scope=\"col\">Run</th><th scope=\"col\">By</th><th scope=\"col\">Jobs</th><th scope=\"col\">Started</th>" +
                 "<th scope=\"col\">Ended</th><th scope=\"col\">Jobs by status</th></tr></thead><tbody>");
        foreach (var line in report.Runs)
        {
            var run = line.Run;
            var what = string.Join(", ", run.Kinds.Select(k => k.DisplayName())) + (run.DryRun ? " (dry run)" : "");
            page.Raw("<tr><td>");
            if (runLink is not null)
            {
                page.Raw("<a href=\"").Text(runLink(run.Id)).Raw("\">").Text(what).Raw("</a>");
            }
            else
            {
                page.Text(what);
            }
            page.Raw("</td>").Cell(run.RequestedBy).Cell(Count(run.JobCount), "n").Cell(Time(run.StartAt)).Cell(line.End is { } end ? Time(end) : "not over")
                .Cell(string.Join(", ", line.ByStatus.Select(s => $"{s.Status.DisplayName()} {Count(s.Count)}"))).Raw("</tr>");
        }
        page.Raw("</tbody></table>\n");
        WriteTotals(page, report.LatestJobs, "Latest job of each mapping and kind, by status");
        await WriteFailuresAsync(page, failures, "Failures still standing (latest job of each mapping and kind)", ct);
        page.End();
        await page.FlushAsync();
    }

    private static void WriteTotals(HtmlPage page, JobTotals totals, string title)
    {
        page.Raw($"<h2>{title}</h2><table id=\"jobs\"><thead><tr><th scope=\"col\">Job</th><th scope=\"col\">Status</th><th scope=\"col\" class=\"n\">Jobs</th></tr></thead><tbody>");
        foreach (var c in totals.ByKindAndStatus)
        {
            page.Raw($"<tr data-kind=\"{c.Kind}\" data-status=\"{c.Status}\">").Cell(c.Kind.DisplayName()).Cell(c.Status.DisplayName()).Cell(Count(c.Count), "n").Raw("</tr>");
        }
        page.Raw("</tbody></table>\n<h2>Durations (started → finished)</h2><table><thead><tr><th scope=\"col\">Job</th><th scope=\"col\" class=\"n\">Measured</th>" +
                 "<th scope=\"col\" class=\"n\">Shortest</th><th scope=\"col\" class=\"n\">Median</th><th scope=\"col\" class=\"n\">Longest</th></tr></thead><tbody>");
        foreach (var d in totals.Durations)
        {
            page.Raw("<tr>").Cell(d.Kind.DisplayName()).Cell(Count(d.Count), "n").Cell(Duration(d.Minimum), "n").Cell(Duration(d.Median), "n")
                .Cell(Duration(d.Maximum), "n").Raw("</tr>");
        }
        page.Raw("</tbody></table>\n<h2>Re-ACL areas (permissions and profile)</h2><table><thead><tr><th scope=\"col\">Area</th><th scope=\"col\" class=\"n\">Seen</th>" +
                 "<th scope=\"col\" class=\"n\">Changed</th><th scope=\"col\" class=\"n\">Failed</th><th scope=\"col\" class=\"n\">Jobs that could not do it</th></tr></thead><tbody>");
        foreach (var a in totals.Areas)
        {
            page.Raw("<tr>").Cell(JobAreaCounts.DisplayName(a.Area)).Cell(Count(a.Seen), "n").Cell(Count(a.Changed), "n").Cell(Count(a.Failed), "n")
                .Cell(Count(a.NotDone), "n").Raw("</tr>");
        }
        page.Raw("</tbody></table>\n");
    }

    private static async Task WriteFailuresAsync(HtmlPage page, IAsyncEnumerable<FailureRow> failures, string title, CancellationToken ct)
    {
        page.Raw($"<h2>{title}</h2><table id=\"failures\"><thead><tr><th scope=\"col\">Device</th><th scope=\"col\">Job</th><th scope=\"col\">Status</th>" +
                 "<th scope=\"col\">Reason</th><th scope=\"col\">What to do</th><th scope=\"col\">Ended</th></tr></thead><tbody>");
        var count = 0;
        await foreach (var f in failures.WithCancellation(ct))
        {
            var reason = f.ErrorCode is null ? f.Reason : f.Reason is null ? f.ErrorCode : $"{f.ErrorCode}: {f.Reason}";
            page.Raw("<tr>").Cell(f.SourceDevice).Cell(f.Kind.DisplayName()).Cell(f.Status.DisplayName()).Cell(reason, "reason").Cell(f.Advice)
                .Cell(Time(f.FinishedAt)).Raw("</tr>\n");
            count++;
            await page.FlushIfFullAsync();
        }
        page.Raw(count == 0 ? "<tr><td colspan=\"6\">None.</td></tr>" : "").Raw("</tbody></table>\n");
    }

    private static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Time(DateTimeOffset? at) => Console.Shared.Labels.Time(at);

    private static string Duration(TimeSpan span) => span.TotalHours >= 1
        ? $"{(int)span.TotalHours}h {span.Minutes:D2}m {span.Seconds:D2}s"
        : span.TotalMinutes >= 1 ? $"{span.Minutes}m {span.Seconds:D2}s" : $"{span.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)}s";
}
