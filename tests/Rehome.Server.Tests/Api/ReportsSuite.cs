using System.Globalization;
using System.Net;
using System.Text.Json;
using CsvHelper;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Core.Runs;
using Rehome.Server.Audit;
using Rehome.Server.Auth;
using Rehome.Server.Reports;
using Rehome.Server.Runs;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Api;

/// <summary>Issue 15's reports to hand on: run and project reports (CSV and printable HTML) and the audit log as CSV; on SQLite and PostgreSQL.</summary>
public abstract class ReportsSuite(ServerHost host)
{
    private const string FormulaName = "=cmd|' /C calc'!A0";
    private const string ScriptName = "<script>alert(1)</script>";

    private HttpClient Client => host.Client;

    private static string Prefix() => "P" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();

    /// <summary>A run of rejoin + permissions on five devices, ended as an agent would, at known times.</summary>
    private sealed record World(Guid Project, Guid Run, List<Guid> Mappings);

    /// <summary>
    /// Device 1: both jobs finished (rejoin 60 s; permissions with Files and Registry counts). Device 2: rejoin
    /// 120 s, permissions with exceptions. Device 3: rejoin failed after 30 s (its permissions job fails with it).
    /// Device 4: permissions failed with a reason that is a formula. Device 5: not started.
    /// </summary>
    private async Task<World> RunAsync()
    {
        var project = await Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 5);
        var started = await Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain", "MigratePermissions" }, mappingIds = ids });
        var run = started.GetProperty("run").GetProperty("id").GetGuid();
        await EndAsync(ids[0], JobStatus.Finished, TimeSpan.FromSeconds(60));
        await EndAsync(ids[0], JobStatus.Finished, TimeSpan.FromSeconds(10), areas: [new("Files", 100, 40, 0), new("Registry", 10, 2, 0)]);
        await EndAsync(ids[1], JobStatus.Finished, TimeSpan.FromSeconds(120));
        await EndAsync(ids[1], JobStatus.Exceptions, TimeSpan.FromSeconds(20), message: "3 files could not be changed.",
            areas: [new("Files", 50, 10, 3), new("Printers", 0, 0, 0, "this device's agent cannot migrate it")]);
        await EndAsync(ids[2], JobStatus.Failed, TimeSpan.FromSeconds(30), message: "The destination refused the join.");
        await EndAsync(ids[3], JobStatus.Finished, TimeSpan.FromSeconds(90));
        await EndAsync(ids[3], JobStatus.Failed, TimeSpan.FromSeconds(5), message: "=HYPERLINK(\"http://evil.example\") <img src=x onerror=alert(1)>");
        return new World(project, run, ids);
    }

    private async Task EndAsync(Guid mapping, JobStatus status, TimeSpan took, string? message = null, List<JobAreaCount>? areas = null)
    {
        await using var scope = host.Scope();
        var transitions = scope.ServiceProvider.GetRequiredService<JobTransitions>();
        var job = await transitions.LeaseNextAsync(mapping, Guid.NewGuid(), TimeSpan.FromHours(1), CancellationToken.None);
        Assert.NotNull(job);
        host.Time.Advance(took);
        Assert.True(await transitions.CompleteAsync(job.Id, job.LeaseOwner!.Value, job.LeaseToken!.Value,
            new JobCompletion(status, new JobProgress(10, 10, 3, status == JobStatus.Exceptions ? 3 : 0, Areas: areas),
                status == JobStatus.Failed ? "StepFailed" : null, message), CancellationToken.None));
    }

    private async Task RenameDeviceAsync(Guid mapping, string name)
    {
        // The API refuses such names; a report must not trust the store to have refused them.
        await using var scope = host.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        await db.Mappings.Where(m => m.Id == mapping).ExecuteUpdateAsync(s => s.SetProperty(m => m.SourceDevice, name));
    }

    private static List<Dictionary<string, string>> ParseCsv(string text)
    {
        using var reader = new CsvReader(new StringReader(text), CultureInfo.InvariantCulture);
        reader.Read();
        reader.ReadHeader();
        var rows = new List<Dictionary<string, string>>();
        while (reader.Read())
        {
            rows.Add(reader.HeaderRecord!.ToDictionary(h => h, h => reader.GetField(h)!));
        }
        return rows;
    }

    private async Task<(HttpResponseMessage Answer, string Text)> GetAsync(string url, HttpClient? client = null)
    {
        var answer = await (client ?? Client).GetAsync(new Uri(url, UriKind.Relative));
        return (answer, await answer.Content.ReadAsStringAsync());
    }

    private async Task<List<Dictionary<string, string>>> CsvAsync(string url)
    {
        var (answer, text) = await GetAsync(url);
        Assert.True(answer.StatusCode == HttpStatusCode.OK, text);
        return ParseCsv(text);
    }

    [Fact]
    public async Task The_run_report_counts_jobs_by_kind_and_status_as_the_store_does()
    {
        var world = await RunAsync();

        var rows = await CsvAsync($"/api/v1/runs/{world.Run}/report.csv");
        var store = await Client.GetJsonAsync($"/api/v1/runs/{world.Run}");

        var expected = store.GetProperty("jobsByKindAndStatus").EnumerateObject()
            .SelectMany(kind => kind.Value.EnumerateObject().Select(s => $"{kind.Name}/{s.Name}={s.Value.GetInt32()}"))
            .Order().ToList();
        var reported = rows.Where(r => r["Section"] == "Jobs").Select(r => $"{r["JobKind"]}/{r["Status"]}={r["Count"]}").Order().ToList();
        Assert.Equal(expected, reported);
        Assert.Equal(10, rows.Where(r => r["Section"] == "Jobs").Sum(r => int.Parse(r["Count"], CultureInfo.InvariantCulture)));
        var run = Assert.Single(rows, r => r["Section"] == "Run");
        Assert.Equal("NotOver", run["Status"]);
        Assert.Equal("", run["End"]);
    }

    [Fact]
    public async Task Every_failure_row_carries_its_device_reason_and_advice()
    {
        var world = await RunAsync();

        var failures = (await CsvAsync($"/api/v1/runs/{world.Run}/report.csv")).Where(r => r["Section"] == "Failure").ToList();

        // Device 2's exceptions, device 3's failed rejoin and the permissions job that failed with it, device 4's failure.
        Assert.Equal(4, failures.Count);
        Assert.All(failures, f => Assert.False(string.IsNullOrEmpty(f["Advice"]), $"{f["Device"]} {f["JobKind"]} has no advice"));
        Assert.All(failures, f => Assert.False(string.IsNullOrEmpty(f["Reason"]) && string.IsNullOrEmpty(f["ErrorCode"]), $"{f["Device"]} {f["JobKind"]} has no reason"));
        var exceptions = Assert.Single(failures, f => f["Status"] == "Exceptions");
        Assert.Equal("3 files could not be changed.", exceptions["Reason"]);
        Assert.Equal(JobAdvice.For(JobStatus.Exceptions, null), exceptions["Advice"]);
        var prerequisite = Assert.Single(failures, f => f["ErrorCode"] == JobErrorCodes.PrerequisiteFailed);
        Assert.Equal(JobAdvice.For(JobStatus.Failed, JobErrorCodes.PrerequisiteFailed), prerequisite["Advice"]);
        Assert.Equal("The destination refused the join.", Assert.Single(failures, f => f["JobKind"] == "RejoinDomain")["Reason"]);
    }

    [Fact]
    public async Task Durations_are_the_shortest_median_and_longest_job_of_each_kind_and_areas_are_summed_over_the_run()
    {
        var world = await RunAsync();

        var rows = await CsvAsync($"/api/v1/runs/{world.Run}/report.csv");

        var rejoin = Assert.Single(rows, r => r is { } && r["Section"] == "Duration" && r["JobKind"] == "RejoinDomain");
        Assert.Equal(("4", "30", "75", "120"), (rejoin["Count"], rejoin["MinimumSeconds"], rejoin["MedianSeconds"], rejoin["MaximumSeconds"]));
        var areas = rows.Where(r => r["Section"] == "Area").ToDictionary(r => r["Area"], r => (r["Seen"], r["Changed"], r["Failed"], r["NotDone"]));
        Assert.Equal(("150", "50", "3", "0"), areas["Files"]);
        Assert.Equal(("10", "2", "0", "0"), areas["Registry"]);
        Assert.Equal(("0", "0", "0", "1"), areas["Printers"]);
    }

    [Fact]
    public async Task A_hostile_device_name_or_reason_is_neutralised_in_the_CSV_and_encoded_in_the_HTML()
    {
        var world = await RunAsync();
        await RenameDeviceAsync(world.Mappings[1], FormulaName);
        await RenameDeviceAsync(world.Mappings[3], ScriptName);

        var (_, csv) = await GetAsync($"/api/v1/runs/{world.Run}/report.csv");
        var (page, html) = await GetAsync($"/api/v1/runs/{world.Run}/report");

        var failures = ParseCsv(csv).Where(r => r["Section"] == "Failure").ToList();
        Assert.Contains(failures, f => f["Device"] == "'" + FormulaName);
        Assert.Contains(failures, f => f["Reason"] == "'=HYPERLINK(\"http://evil.example\") <img src=x onerror=alert(1)>");
        Assert.DoesNotContain(ParseCsv(csv).SelectMany(r => r.Values), v => v.Length > 0 && "=+-@\t\r".Contains(v[0], StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("<script>", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;", html, StringComparison.Ordinal);
        var policy = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("script-src", policy, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_printable_report_has_one_print_style_sheet_and_no_script()
    {
        var world = await RunAsync();

        var (_, html) = await GetAsync($"/api/v1/runs/{world.Run}/report");

        Assert.Contains("@media print", html, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(html, "<style>"));
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("data-kind=\"MigratePermissions\" data-status=\"Exceptions\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_run_or_project_is_answered_404_problem_json()
    {
        foreach (var url in new[]
                 {
                     $"/api/v1/runs/{Guid.NewGuid()}/report.csv", $"/api/v1/runs/{Guid.NewGuid()}/report",
                     $"/api/v1/projects/{Guid.NewGuid()}/report.csv", $"/api/v1/projects/{Guid.NewGuid()}/report",
                 })
        {
            var (answer, text) = await GetAsync(url);
            Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
            Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
            Assert.Equal(404, JsonDocument.Parse(text).RootElement.GetProperty("status").GetInt32());
        }
    }

    [Fact]
    public async Task A_report_is_an_attachment_named_after_its_project_and_streamed_without_a_length()
    {
        var world = await RunAsync();

        var (answer, _) = await GetAsync($"/api/v1/runs/{world.Run}/report.csv");

        var disposition = answer.Content.Headers.ContentDisposition;
        Assert.NotNull(disposition);
        Assert.Equal("attachment", disposition.DispositionType);
        Assert.StartsWith("project-", disposition.FileNameStar, StringComparison.Ordinal);
        Assert.EndsWith(".csv", disposition.FileNameStar, StringComparison.Ordinal);
        Assert.Equal("text/csv", answer.Content.Headers.ContentType?.MediaType);
        // Written as read: the length is not known when the answer starts, so it is sent in chunks.
        Assert.True(answer.Headers.TransferEncodingChunked);
    }

    [Fact]
    public async Task The_project_report_counts_mappings_by_state_and_lists_each_failure_still_standing_once()
    {
        var world = await RunAsync();
        host.Time.Advance(TimeSpan.FromMinutes(1));
        // Device 4's permissions job is re-run and finishes: its failure no longer stands.
        await Client.PostJsonAsync($"/api/v1/projects/{world.Project}/runs", new { kinds = new[] { "MigratePermissions" }, mappingIds = new[] { world.Mappings[3] } });
        await EndAsync(world.Mappings[3], JobStatus.Finished, TimeSpan.FromSeconds(5));

        var rows = await CsvAsync($"/api/v1/projects/{world.Project}/report.csv");
        var mappings = await Client.GetJsonAsync($"/api/v1/projects/{world.Project}/mappings?pageSize=100");

        var expected = mappings.GetProperty("items").EnumerateArray()
            .GroupBy(m => $"{(m.GetProperty("stage").ValueKind == JsonValueKind.Null ? "" : m.GetProperty("stage").GetString())}/{(m.GetProperty("status").ValueKind == JsonValueKind.Null ? "NotStarted" : m.GetProperty("status").GetString())}")
            .Select(g => $"{g.Key}={g.Count()}").Order().ToList();
        Assert.Equal(expected, rows.Where(r => r["Section"] == "Mappings").Select(r => $"{r["JobKind"]}/{r["Status"]}={r["Count"]}").Order().ToList());
        Assert.Equal(2, rows.Count(r => r["Section"] == "Run"));
        var failures = rows.Where(r => r["Section"] == "Failure").ToList();
        Assert.Equal(3, failures.Count);
        Assert.DoesNotContain(failures, f => f["Status"] == "Failed" && f["JobKind"] == "MigratePermissions" && f["ErrorCode"] == "StepFailed");
        var oldRun = (await CsvAsync($"/api/v1/runs/{world.Run}/report.csv")).Where(r => r["Section"] == "Failure").ToList();
        Assert.Equal(4, oldRun.Count);
    }

    [Fact]
    public async Task A_viewer_reads_reports_but_not_the_audit_export_and_an_auditor_reads_the_audit_export()
    {
        var world = await RunAsync();
        var viewer = await host.CreateAsync(Role.Viewer);
        var auditor = await host.CreateAsync(Role.Auditor);
        using var asViewer = host.ClientWith(viewer.Token);
        using var asAuditor = host.ClientWith(auditor.Token);

        Assert.Equal(HttpStatusCode.OK, (await GetAsync($"/api/v1/runs/{world.Run}/report.csv", asViewer)).Answer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync($"/api/v1/projects/{world.Project}/report", asViewer)).Answer.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync("/api/v1/audit/export.csv", asViewer)).Answer.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync($"/api/v1/runs/{world.Run}/report.csv", asAuditor)).Answer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/api/v1/audit/export.csv", asAuditor)).Answer.StatusCode);
    }

    [Fact]
    public async Task An_account_limited_to_other_projects_gets_404_for_this_projects_reports()
    {
        var world = await RunAsync();
        var other = await Client.CreateProjectAsync();
        var limited = await host.CreateAsync(Role.Viewer, projects: [other]);
        using var asLimited = host.ClientWith(limited.Token);

        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync($"/api/v1/runs/{world.Run}/report.csv", asLimited)).Answer.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync($"/api/v1/runs/{world.Run}/report", asLimited)).Answer.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync($"/api/v1/projects/{world.Project}/report.csv", asLimited)).Answer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync($"/api/v1/projects/{other}/report.csv", asLimited)).Answer.StatusCode);
    }

    [Fact]
    public async Task The_console_opens_the_reports_with_its_cookie_and_the_same_roles_and_links_the_audit_export()
    {
        var world = await RunAsync();
        var viewer = await host.CreateAsync(Role.Viewer);
        using var administrator = await ConsoleClient.SignInAsync(host);
        using var asViewer = new ConsoleClient(host.BaseAddress);
        Assert.True(await asViewer.SignInAsync(viewer.UserName, viewer.Password));

        var report = await asViewer.Http.GetAsync($"/console/runs/{world.Run}/report");
        var project = await asViewer.Http.GetAsync($"/console/projects/{world.Project}/report");
        var refused = await asViewer.Http.GetAsync("/console/audit/export.csv");
        var audit = await administrator.Http.GetAsync("/console/audit/export.csv?action=run.");
        var auditPage = await administrator.Http.GetStringAsync("/audit?action=run.");

        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
        Assert.Contains("Run report", await report.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // The project's page links each run to the console's own report address.
        Assert.Contains($"href=\"/console/runs/{world.Run}/report\"", await project.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.Contains("/denied", refused.Headers.Location?.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, audit.StatusCode);
        Assert.All(ParseCsv(await audit.Content.ReadAsStringAsync()), r => Assert.StartsWith("run.", r["Action"], StringComparison.Ordinal));
        Assert.Contains("href=\"/console/audit/export.csv?actor=&amp;action=run.\"", auditPage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_audit_export_returns_every_entry_of_the_range_in_order_across_batches()
    {
        var actor = ApiClient.Unique("exporter");
        var from = host.Time.GetUtcNow().AddDays(1);
        const int Count = (AuditExport.BatchSize * 2) + 345;
        await using (var scope = host.Scope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
            for (var i = 0; i < Count + 10; i++)
            {
                // Ten entries outside the range: five before it, five at its end (excluded).
                var at = i < 5 ? from.AddSeconds(-1) : i >= Count + 5 ? from.AddSeconds(Count) : from.AddSeconds(i - 5);
                db.AuditLog.Add(new AuditEntry { At = at, Actor = actor, Action = "test.export", Target = $"item {i:D5}", Details = i == 7 ? "@SUM(A1)" : null });
            }
            await db.SaveChangesAsync();
        }
        var to = from.AddSeconds(Count);

        var rows = await CsvAsync($"/api/v1/audit/export.csv?actor={actor}&action=test.&from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(to.ToString("O"))}");

        Assert.Equal(Count, rows.Count);
        Assert.Equal(Enumerable.Range(5, Count).Select(i => $"item {i:D5}"), rows.Select(r => r["Target"]));
        Assert.Equal("'@SUM(A1)", Assert.Single(rows, r => r["Details"].Length > 0)["Details"]);
        var ids = rows.Select(r => long.Parse(r["Id"], CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(ids.Order(), ids);
    }

    [Fact]
    public async Task The_audit_export_refuses_a_range_that_ends_before_it_starts_naming_to()
    {
        var (answer, text) = await GetAsync("/api/v1/audit/export.csv?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z");

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Contains("\"to\"", text, StringComparison.Ordinal);
    }
}

public sealed class ReportsOnSqlite(SqliteServer server) : ReportsSuite(server.Host), IClassFixture<SqliteServer>;

public sealed class ReportsOnPostgres(PostgresServer server) : ReportsSuite(server.Host), IClassFixture<PostgresServer>;
