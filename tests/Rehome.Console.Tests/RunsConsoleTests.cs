using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Rehome.Core.Runs;
using Rehome.Server.Runs;
using Rehome.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Rehome.Console.Tests;

/// <summary>
/// The console's run tools in Debian's Chromium: a selection of thousands stopped in one request, the readiness
/// column, the warning above 5,000 mappings, the dashboard's charts and the report downloads.
/// </summary>
public sealed class RunsConsoleTests
{
    static RunsConsoleTests() => SetDefaultExpectTimeout(60_000);

    private static async Task<(ServerHost Server, Guid Project)> ProjectAsync(int devices)
    {
        var server = await ServerHost.StartLiveAsync();
        var project = await server.Client.CreateProjectAsync("EntraId", "Offline", sourceEntraId: true);
        await server.Client.ImportDevicesAsync(project, "PC", devices);
        return (server, project);
    }

    [Fact]
    public async Task Six_thousand_mappings_are_warned_about_started_checked_for_readiness_and_stopped_in_one_request()
    {
        var (server, project) = await ProjectAsync(6_000);
        await using var _ = server;
        await using var browser = await ConsoleBrowser.OpenAsync(server.BaseAddress);
        var page = browser.Page;
        await browser.SignInAsync("admin", ServerHost.AdminPassword);
        await browser.OpenAsync($"/projects/{project}", "mappings");

        // Above 5,000 the confirmation warns, says why it is allowed, and still lets OK start the run.
        await page.Locator("#select-all-matching").ClickAsync();
        await Expect(page.Locator("#selection-count")).ToContainTextAsync("6,000 selected");
        await page.Locator("#migration-menu").ClickAsync();
        await page.GetByLabel("Migrate Entra ID groups").CheckAsync();
        await page.Locator("#migration-review").ClickAsync();
        await Expect(page.Locator("#size-warning")).ToContainTextAsync("advises at most 5,000 per run");
        await Expect(page.Locator("#size-warning")).ToContainTextAsync("docs/benchmarks.md");
        await Expect(page.Locator("#confirm-ok")).ToBeEnabledAsync();
        await page.Locator("#confirm-ok").ClickAsync();
        await Expect(page.Locator("#action-message")).ToContainTextAsync("Started 6,000 job(s) on 6,000 mapping(s)");

        // The readiness check leaves its outcome in the grid's column (no agent has enrolled: not ready), and the grid filters on it.
        await page.Locator("#select-all-matching").ClickAsync();
        await page.Locator("#readiness-check").ClickAsync();
        await Expect(page.Locator("#readiness")).ToContainTextAsync("Readiness of 6,000 mapping(s)");
        var firstRow = page.Locator("#mappings-grid tr[data-device='PC0001'] td.readiness span");
        await Expect(firstRow).ToHaveTextAsync("Not ready");
        Assert.StartsWith("Agent (Failed): No agent has enrolled", await firstRow.GetAttributeAsync("title"), StringComparison.Ordinal);
        await page.Locator("#readiness").GetByRole(AriaRole.Button, new() { Name = "Close" }).ClickAsync();
        await page.GetByLabel("Readiness", new() { Exact = true }).SelectOptionAsync("Ready");
        await Expect(page.Locator("#selection-count")).ToContainTextAsync("of 0 matching");
        await page.GetByLabel("Readiness", new() { Exact = true }).SelectOptionAsync("NotReady");
        await Expect(page.Locator("#selection-count")).ToContainTextAsync("of 6,000 matching");
        await browser.ScreenshotAsync("console-readiness-column");

        // Stop all matching: one confirmation, one request, every waiting job stopped.
        await page.Locator("#select-all-matching").ClickAsync();
        await page.Locator("#stop-selected").ClickAsync();
        await Expect(page.Locator("#stop-confirm")).ToContainTextAsync("Stop the jobs of the 6,000 selected mapping(s)?");
        await browser.ScreenshotAsync("console-stop-selection");
        await page.Locator("#stop-ok").ClickAsync();
        await Expect(page.Locator("#action-message")).ToContainTextAsync("6,000 job(s) stopped, 0 asked to stop");
        await Expect(page.Locator("#mappings-grid tr[data-device='PC0001'] td.status")).ToHaveTextAsync("Stopped");
        var audit = await server.Client.GetJsonAsync("/api/v1/audit?action=jobs.stop");
        Assert.Contains(audit.GetProperty("items").EnumerateArray(), e => e.GetProperty("details").GetString()!.StartsWith("6000 stopped", StringComparison.Ordinal));
        Assert.True(browser.CspViolations.Count == 0, string.Join("\n", browser.CspViolations));
    }

    [Fact]
    public async Task The_dashboard_draws_a_runs_progress_and_its_failures_by_reason_with_hostile_reasons_as_text()
    {
        var (server, project) = await ProjectAsync(6);
        await using var _ = server;
        const string hostile = "<img src=x onerror=alert(1)>";
        await server.Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "MigrateEntraIdGroups" }, filter = new { } });
        var outcomes = new (JobStatus Status, string? Code)[]
        {
            (JobStatus.Finished, null), (JobStatus.Finished, null), (JobStatus.Finished, null),
            (JobStatus.Failed, "GroupNotFound"), (JobStatus.Failed, "GroupNotFound"), (JobStatus.Failed, hostile),
        };
        var mappings = (await server.Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?pageSize=10")).GetProperty("items").EnumerateArray().Select(m => m.Id()).ToList();
        await using (var scope = server.Scope())
        {
            var transitions = scope.ServiceProvider.GetRequiredService<JobTransitions>();
            foreach (var (mapping, (status, code)) in mappings.Zip(outcomes))
            {
                var job = await transitions.LeaseNextAsync(mapping, Guid.NewGuid(), TimeSpan.FromMinutes(5), CancellationToken.None);
                Assert.True(await transitions.CompleteAsync(job!.Id, job.LeaseOwner!.Value, job.LeaseToken!.Value,
                    new JobCompletion(status, new JobProgress(1, 1, 1, 0), code, code is null ? null : "It did not work."), CancellationToken.None));
            }
        }
        await using var browser = await ConsoleBrowser.OpenAsync(server.BaseAddress);
        var page = browser.Page;
        var alerts = 0;
        page.Dialog += (_, dialog) => { alerts++; _ = dialog.DismissAsync(); };
        await browser.SignInAsync("admin", ServerHost.AdminPassword);

        await Expect(page.Locator("svg#progress-chart")).ToBeVisibleAsync();
        await Expect(page.Locator("svg#progress-chart polyline.finished")).ToHaveCountAsync(1);
        await Expect(page.Locator("svg#progress-chart desc")).ToContainTextAsync("3 finished and 3 failed");
        await Expect(page.Locator("svg#failures-chart")).ToContainTextAsync("GroupNotFound");
        await Expect(page.Locator("svg#failures-chart")).ToContainTextAsync(hostile);
        await Expect(page.Locator("#failures-table")).ToContainTextAsync("GroupNotFound");
        Assert.Equal(0, await page.Locator("#run-charts img").CountAsync());
        await browser.ScreenshotAsync("console-dashboard-charts");
        Assert.Equal(0, alerts);
        Assert.True(browser.CspViolations.Count == 0, string.Join("\n", browser.CspViolations));
    }

    [Fact]
    public async Task The_report_links_of_the_project_page_a_mapping_report_and_the_audit_page_download_with_their_content_types()
    {
        var (server, project) = await ProjectAsync(2);
        await using var _ = server;
        await server.Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "MigrateEntraIdGroups" }, filter = new { } });
        var mapping = (await server.Client.GetJsonAsync($"/api/v1/projects/{project}/mappings")).GetProperty("items")[0].Id();
        await using var browser = await ConsoleBrowser.OpenAsync(server.BaseAddress);
        var page = browser.Page;
        await browser.SignInAsync("admin", ServerHost.AdminPassword);

        async Task AssertDownloadsAsync(ILocator link, string contentType, string expectedText)
        {
            var href = await link.GetAttributeAsync("href");
            Assert.NotNull(href);
            // Through the browser's own session (its cookie), as a click would.
            var answer = await browser.Context.APIRequest.GetAsync(href);
            Assert.Equal((int)HttpStatusCode.OK, answer.Status);
            Assert.StartsWith(contentType, answer.Headers["content-type"], StringComparison.Ordinal);
            Assert.Contains(expectedText, await answer.TextAsync(), StringComparison.Ordinal);
        }

        await browser.OpenAsync($"/projects/{project}", "mappings");
        await AssertDownloadsAsync(page.Locator("#project-report"), "text/html", "<!DOCTYPE html>");
        await AssertDownloadsAsync(page.Locator("#project-report-csv"), "text/csv", "MigrateEntraIdGroups");

        await browser.OpenAsync($"/mappings/{mapping}", "PC0001");
        await AssertDownloadsAsync(page.Locator("a.run-report").First, "text/html", "<!DOCTYPE html>");
        await AssertDownloadsAsync(page.Locator("a[href$='/report.csv']").First, "text/csv", "MigrateEntraIdGroups");

        await browser.OpenAsync("/audit", "Audit log");
        await AssertDownloadsAsync(page.Locator("#audit-export"), "text/csv", "run.start");
        await browser.OpenAsync("/", "Dashboard");
        await AssertDownloadsAsync(page.Locator("#run-charts a[href$='/report']"), "text/html", "<!DOCTYPE html>");
    }
}
