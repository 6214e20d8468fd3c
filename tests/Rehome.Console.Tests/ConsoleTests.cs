using System.Text;
using Microsoft.Playwright;
using Rehome.Core.Runs;
using Rehome.EndToEnd.Tests;
using Rehome.Server.Runs;
using Rehome.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Rehome.Console.Tests;

/// <summary>
/// The console in Debian's Chromium against the real server; the runs use real agents on simulated devices.
/// Each test saves screenshots of the pages it passes through (to docs/screenshots with REHOME_SAVE_SCREENSHOTS=1).
/// </summary>
public sealed class ConsoleTests
{
    /// <summary>Generous: on a busy machine a rejoin with its restart takes a few seconds per device.</summary>
    private static readonly LocatorAssertionsToHaveTextOptions Slow = new() { Timeout = 120_000 };

    static ConsoleTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task An_administrator_signs_in_builds_a_project_and_sees_a_bad_csv_rejected_with_its_rows()
    {
        await using var server = await ServerHost.StartLiveAsync();
        await using var browser = await ConsoleBrowser.OpenAsync(server.BaseAddress);
        var page = browser.Page;

        // Every page needs a signed-in administrator; a wrong password is said next to the field.
        await page.GotoAsync("/projects");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await page.GetByLabel("User name").FillAsync("admin");
        await page.GetByLabel("Password").FillAsync("not-the-password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.Locator("#password-error")).ToContainTextAsync("user name or password is wrong");
        await browser.ScreenshotAsync("sign-in");
        await browser.SignInAsync("admin", ServerHost.AdminPassword);

        // A source connection: its configuration key is shown once, with the agent's install instructions.
        var key = await CreateSourceConnectionAsync(browser, "Contoso");
        await Expect(page.GetByText("Install the agent on the source devices")).ToBeVisibleAsync();
        await browser.ScreenshotAsync("connections");
        await page.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();
        await Expect(page.Locator("#configuration-key")).ToHaveCountAsync(0);
        Assert.DoesNotContain(key!, await page.ContentAsync(), StringComparison.Ordinal);

        // Its test shows each check with its result: here, no domain was given, so there is nothing to reach.
        await page.GetByRole(AriaRole.Button, new() { Name = "Test Contoso" }).ClickAsync();
        await Expect(page.Locator("#connection-test")).ToContainTextAsync("Test of 'Contoso'");

        // A destination connection; a bad value is said next to its field, then fixed.
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Fabrikam");
        await page.GetByLabel("Role").SelectOptionAsync("Destination");
        await page.GetByLabel("Kind").SelectOptionAsync("ActiveDirectory");
        await page.GetByLabel("Rejoin method").SelectOptionAsync("Offline");
        await page.GetByLabel("Domain DNS name").FillAsync("fabrikam.example");
        await page.GetByLabel("Target OU").FillAsync("not a distinguished name");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create connection" }).ClickAsync();
        await Expect(page.Locator("#target-ou-error")).ToBeVisibleAsync();
        await page.GetByLabel("Target OU").FillAsync("OU=Migrated,DC=fabrikam,DC=example");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create connection" }).ClickAsync();
        await Expect(page.Locator("#connections")).ToContainTextAsync("Fabrikam");

        await browser.OpenAsync("/policies", "Migration policies");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Wave 1 policy");
        await page.GetByLabel("Explicit mappings").FillAsync("Type,Source,Destination\nUser,CONTOSO\\alice,alice@fabrikam.example\n");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create policy" }).ClickAsync();
        await Expect(page.Locator("#policies")).ToContainTextAsync("Wave 1 policy");
        await Expect(page.Locator("#policies")).ToContainTextAsync("1 users");
        await browser.ScreenshotAsync("policies");

        await browser.OpenAsync("/projects", "Projects");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Wave 1");
        await page.GetByLabel("Tags").FillAsync("pilot, hq");
        await page.GetByLabel("Source connection").SelectOptionAsync(new SelectOptionValue { Label = "Contoso" });
        await page.GetByLabel("Destination connection").SelectOptionAsync(new SelectOptionValue { Label = "Fabrikam" });
        await page.GetByLabel("Migration policy").SelectOptionAsync(new SelectOptionValue { Label = "Wave 1 policy" });
        await page.GetByRole(AriaRole.Button, new() { Name = "Create project" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Wave 1", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Wave 1 — mappings" })).ToBeVisibleAsync();

        // A bad CSV imports nothing and names its bad rows.
        await browser.ChooseFilesAsync("#import-csv", Csv("bad.csv",
            "SourceDevice,DestinationName,DestinationOU,PrimaryUser,DestinationUser\n" +
            "PC-1,NEW-1,,,\n" +
            ",NEW-2,,,\n" +
            "PC-3,NEW-3,,CONTOSO\\bob,\n"));
        await Expect(page.Locator("#import-errors")).ToContainTextAsync("Row 3");
        await Expect(page.Locator("#import-errors")).ToContainTextAsync("Row 4");
        await Expect(page.Locator("#selection-count")).ToContainTextAsync("of 0 matching");
        await browser.ScreenshotAsync("import-rejected");

        await browser.ChooseFilesAsync("#import-csv", Csv("good.csv",
            "SourceDevice,DestinationName,DestinationOU,PrimaryUser,DestinationUser\n" +
            "PC-1,NEW-1,,CONTOSO\\alice,alice@fabrikam.example\nPC-2,NEW-2,,,\nPC-3,NEW-3,,,\n"));
        await Expect(page.Locator("#import-result")).ToContainTextAsync("3 created");
        await Expect(page.Locator("#mappings-grid tr[data-device]")).ToHaveCountAsync(3);

        // Adding from the directory needs the source's domain: the form says so instead of adding anything.
        await page.Locator("#discover-open").ClickAsync();
        await page.GetByLabel("Source OU").FillAsync("OU=Workstations,DC=contoso,DC=example");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add the OU's computers" }).ClickAsync();
        await Expect(page.Locator("#discover-failure")).ToBeVisibleAsync();

        await browser.OpenAsync("/projects", "Projects");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Not started: 3" })).ToBeVisibleAsync();
        await browser.ScreenshotAsync("projects");
    }

    [Fact]
    public async Task Selected_mappings_run_rejoin_and_permissions_from_the_migration_menu_and_finish_on_screen()
    {
        await using var world = await LiveWorld.StartAsync(3, [JobKind.RejoinDomain, JobKind.MigratePermissions]);
        world.Fleet.StartAll();
        await using var browser = await ConsoleBrowser.OpenAsync(world.Server.BaseAddress);
        var page = browser.Page;
        await browser.SignInAsync("admin", ServerHost.AdminPassword);
        await browser.OpenAsync($"/projects/{world.Scenario.ProjectId}", "mappings");
        await Expect(page.Locator("#mappings-grid tr[data-device]")).ToHaveCountAsync(3);

        // Permissions alone are refused for devices that have not rejoined: the confirmation says why, and Cancel starts nothing.
        await page.Locator("#select-all-matching").ClickAsync();
        await Expect(page.Locator("#selection-count")).ToContainTextAsync("3 selected");
        await page.Locator("#migration-menu").ClickAsync();
        await page.GetByLabel("Migrate permissions").CheckAsync();
        await page.Locator("#migration-review").ClickAsync();
        await Expect(page.Locator("#refusals")).ToContainTextAsync("needs CTS-PC00001 to have rejoined the destination");
        await Expect(page.Locator("#refused-count")).ToHaveTextAsync("3");
        await browser.ScreenshotAsync("confirmation-refused");
        await Expect(page.Locator("#confirm-cancel")).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Escape");
        await Expect(page.Locator("#confirm-dialog")).ToHaveCountAsync(0);
        Assert.Equal(0, (int)(await world.Api.GetAsync($"/api/v1/projects/{world.Scenario.ProjectId}/runs", CancellationToken.None))["total"]!);

        // Rejoin + permissions on the three rows picked one by one: the confirmation counts them, OK starts them.
        // The clear is answered by the server: until its render lands every box is still ticked, and ticking one then is a no-op.
        await page.GetByRole(AriaRole.Button, new() { Name = "Clear selection" }).ClickAsync();
        await Expect(page.Locator("#selection-count")).ToContainTextAsync("0 selected");
        for (var i = 1; i <= 3; i++)
        {
            await page.GetByLabel($"Select CTS-PC0000{i}").CheckAsync();
        }
        await Expect(page.Locator("#selection-count")).ToContainTextAsync("3 selected");
        await page.Locator("#migration-menu").ClickAsync();
        await page.GetByLabel("Rejoin domain").CheckAsync();
        await page.Locator("#migration-review").ClickAsync();
        await Expect(page.Locator("#confirm-summary")).ToContainTextAsync("6 job(s) will start on 3 mapping(s)");
        await browser.ScreenshotAsync("confirmation");
        await page.Locator("#confirm-ok").ClickAsync();
        await Expect(page.Locator("#action-message")).ToContainTextAsync("Started 6 job(s) on 3 mapping(s)");

        // The rows move on screen as the agents report, without a reload: a mapping shows Finished once every job of its run is.
        for (var i = 1; i <= 3; i++)
        {
            await Expect(page.Locator($"#mappings-grid tr[data-device='CTS-PC0000{i}'] td.status")).ToHaveTextAsync("Finished", Slow);
        }
        await browser.ScreenshotAsync("mappings");

        // The readiness check of the selection, for the jobs ticked in the Migration menu.
        await page.Locator("#select-all-matching").ClickAsync();
        await page.Locator("#readiness-check").ClickAsync();
        await Expect(page.Locator("#readiness")).ToContainTextAsync("Readiness of 3 mapping(s)");
        await browser.ScreenshotAsync("readiness");
        await page.GetByRole(AriaRole.Button, new() { Name = "Clear selection" }).ClickAsync();

        // Refreshing the identity cache reaches the real directories: these connections name no domain controller, and the page says so.
        await page.Locator("#identities-refresh").ClickAsync();
        await Expect(page.Locator("#action-message")).ToContainTextAsync("The identities could not be read");
        await Expect(page.Locator("#action-message")).ToContainTextAsync("domain controller");

        // The report: every job of the run with its times and the device's log.
        await page.GetByRole(AriaRole.Link, new() { Name = "CTS-PC00001", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "CTS-PC00001" })).ToBeVisibleAsync();
        await Expect(page.Locator("tr[data-job='RejoinDomain'] td.job-status")).ToHaveTextAsync("Finished");
        await Expect(page.Locator("tr[data-job='MigratePermissions'] td.job-status")).ToHaveTextAsync("Finished");
        await Expect(page.Locator("#device-log")).ToContainTextAsync("Joined");
        await browser.ScreenshotAsync("report");

        await browser.OpenAsync("/agents", "Agents");
        await Expect(page.Locator("#agents")).ToContainTextAsync("CTS-PC00003");
        await browser.ScreenshotAsync("agents");
        await browser.OpenAsync("/", "Dashboard");
        await browser.ScreenshotAsync("dashboard");
        await browser.OpenAsync("/audit", "Audit log");
        await Expect(page.Locator("#audit")).ToContainTextAsync("run.start");
        await browser.ScreenshotAsync("audit");
        Assert.True(browser.CspViolations.Count == 0, string.Join("\n", browser.CspViolations));
    }

    [Fact]
    public async Task A_waiting_job_is_stopped_from_the_mapping_report()
    {
        await using var world = await LiveWorld.StartAsync(1, [JobKind.RejoinDomain]);
        var runId = await world.RunAsync(JobKind.RejoinDomain);
        await world.WaitForJobAsync(runId, 1, JobKind.RejoinDomain, s => s == JobStatus.WaitingToStart, "the rejoin to wait for its agent");
        await using var browser = await ConsoleBrowser.OpenAsync(world.Server.BaseAddress);
        var page = browser.Page;
        await browser.SignInAsync("admin", ServerHost.AdminPassword);

        await browser.OpenAsync($"/mappings/{world.MappingOf(1)}", "CTS-PC00001");
        await Expect(page.Locator("tr[data-job='RejoinDomain'] td.job-status")).ToHaveTextAsync("Waiting to start");
        await page.GetByRole(AriaRole.Button, new() { Name = "Stop Rejoin domain" }).ClickAsync();

        await Expect(page.Locator("tr[data-job='RejoinDomain'] td.job-status")).ToHaveTextAsync("Stopped");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Re-run Rejoin domain" })).ToBeVisibleAsync();
        Assert.Equal(JobStatus.Stopped, LiveWorld.StatusOf(await world.JobAsync(runId, 1, JobKind.RejoinDomain)));
    }

    [Fact]
    public async Task A_finished_permissions_job_shows_its_areas_and_is_reverted_from_the_mapping_report_after_a_confirmation()
    {
        await using var world = await LiveWorld.StartAsync(1, [JobKind.RejoinDomain, JobKind.MigratePermissions]);
        await world.RunAsync(JobKind.RejoinDomain, JobKind.MigratePermissions);
        // No agent runs here: the jobs end as an agent would end them, with per-area counts.
        await world.Server.EndNextJobAsync(world.MappingOf(1), JobStatus.Finished);
        await world.Server.EndNextJobAsync(world.MappingOf(1), JobStatus.Finished,
            new JobProgress(12, 12, 5, 1, Areas: [new("Files", 12, 5, 1), new("Printers", 0, 0, 0, "this device's agent cannot migrate it")]));
        await using var browser = await ConsoleBrowser.OpenAsync(world.Server.BaseAddress);
        var page = browser.Page;
        await browser.SignInAsync("admin", ServerHost.AdminPassword);

        await browser.OpenAsync($"/mappings/{world.MappingOf(1)}", "CTS-PC00001");
        await Expect(page.Locator("tr[data-area='Files']")).ToContainTextAsync("12");
        await Expect(page.Locator("tr[data-area='Printers']")).ToContainTextAsync("Not done — this device's agent cannot migrate it");
        await page.GetByRole(AriaRole.Button, new() { Name = "Revert Migrate permissions" }).ClickAsync();
        await Expect(page.Locator("#revert-confirm")).ToBeVisibleAsync();
        await browser.ScreenshotAsync("mapping-report-revert");
        await page.Locator("#revert-ok").ClickAsync();

        await Expect(page.Locator("#report-message")).ToContainTextAsync("The revert was started");
        await Expect(page.Locator(".job-note").First).ToContainTextAsync("revert of job");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Revert Migrate permissions" })).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task The_api_takes_no_console_cookie_and_a_console_form_without_its_antiforgery_token_is_refused()
    {
        await using var server = await ServerHost.StartLiveAsync();
        await using var browser = await ConsoleBrowser.OpenAsync(server.BaseAddress);
        await browser.SignInAsync("admin", ServerHost.AdminPassword);

        var answer = await browser.Context.APIRequest.GetAsync("/api/v1/projects");
        // A console form posted from elsewhere (no antiforgery token) is refused too.
        var form = browser.Context.APIRequest.CreateFormData();
        form.Set("userName", "admin");
        form.Set("password", ServerHost.AdminPassword);
        var forged = await browser.Context.APIRequest.PostAsync("/account/sign-in", new() { Form = form, MaxRedirects = 0 });

        Assert.Equal(401, answer.Status);
        Assert.Equal(400, forged.Status);
    }

    [Fact]
    public async Task The_console_works_under_a_policy_of_its_own_scripts_and_styles_without_a_single_violation()
    {
        await using var server = await ServerHost.StartLiveAsync();
        await using var browser = await ConsoleBrowser.OpenAsync(server.BaseAddress);
        await browser.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        var page = browser.Page;

        var signIn = await page.GotoAsync("/sign-in");
        var policy = await signIn!.HeaderValueAsync("content-security-policy");
        Assert.NotNull(policy);
        Assert.Contains("script-src 'self';", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", policy.Replace("style-src-attr 'unsafe-inline'", "", StringComparison.Ordinal), StringComparison.Ordinal);
        await browser.SignInAsync("admin", ServerHost.AdminPassword);

        // The Copy button of a secret shown once works without an inline handler.
        var key = await CreateSourceConnectionAsync(browser, "Contoso");
        await page.GetByRole(AriaRole.Button, new() { Name = "Copy" }).ClickAsync();
        Assert.Equal(key, await page.EvaluateAsync<string>("navigator.clipboard.readText()"));

        foreach (var (path, heading) in new[] { ("/", "Dashboard"), ("/projects", "Projects"), ("/policies", "Migration policies"), ("/agents", "Agents"), ("/tokens", "API tokens"), ("/audit", "Audit log") })
        {
            await browser.OpenAsync(path, heading);
        }
        Assert.True(browser.CspViolations.Count == 0, string.Join("\n", browser.CspViolations));
    }

    /// <summary>Creates a source connection in the connections page and returns its configuration key, shown once.</summary>
    private static async Task<string?> CreateSourceConnectionAsync(ConsoleBrowser browser, string name)
    {
        var page = browser.Page;
        await browser.OpenAsync("/connections", "Connections");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        await page.GetByLabel("Kind").SelectOptionAsync("HybridIdentity");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create connection" }).ClickAsync();
        await Expect(page.Locator("#configuration-key")).ToContainTextAsync("rhk_");
        return await page.Locator("#configuration-key").TextContentAsync();
    }

    private static FilePayload Csv(string name, string text) => new() { Name = name, MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes(text) };
}
