using System.Net;
using Microsoft.Playwright;
using Rehome.Core.Runs;
using Rehome.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Rehome.Console.Tests;

/// <summary>After the migration in the console: archive and unarchive a project, download its zip, uninstall an agent.</summary>
public sealed class AfterTheMigrationPageTests
{
    static AfterTheMigrationPageTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task An_administrator_archives_a_project_finds_it_with_the_archived_box_downloads_its_zip_sees_its_grid_read_only_and_unarchives_it()
    {
        await using var server = await ServerHost.StartLiveAsync();
        var project = await server.Client.CreateProjectAsync();
        var name = (await server.Client.GetJsonAsync($"/api/v1/projects/{project}")).GetProperty("name").GetString()!;
        await using var browser = await ConsoleBrowser.OpenAsync(server.BaseAddress);
        var page = browser.Page;
        await browser.SignInAsync("admin", ServerHost.AdminPassword);
        await browser.OpenAsync("/projects", "Projects");

        await page.GetByRole(AriaRole.Button, new() { Name = $"Archive {name}" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = name })).ToHaveCountAsync(0);
        await page.GetByLabel("Show archived projects only").CheckAsync();
        var download = page.GetByRole(AriaRole.Link, new() { Name = $"Download the archive of {name}" });
        await Expect(download).ToBeVisibleAsync();
        await browser.ScreenshotAsync("projects-archived");
        var zip = await page.APIRequest.GetAsync(await download.GetAttributeAsync("href") ?? "");
        Assert.Equal((int)HttpStatusCode.OK, zip.Status);
        Assert.Equal("application/zip", zip.Headers["content-type"]);

        // Its grid says it is archived and offers nothing the server would refuse.
        await browser.OpenAsync($"/projects/{project}", "mappings");
        await Expect(page.Locator("#archived-notice")).ToContainTextAsync("by admin: read-only");
        await Expect(page.Locator("#migration-menu")).ToHaveCountAsync(0);
        await Expect(page.Locator("#remove-completed")).ToHaveCountAsync(0);
        await Expect(page.Locator("#import-csv")).ToHaveCountAsync(0);
        // Who may read it can still be chosen: the new account's project limits offer it, marked.
        await browser.OpenAsync("/accounts", "Accounts");
        await Expect(page.GetByLabel($"{name} (archived)")).ToHaveCountAsync(1);
        await browser.OpenAsync("/projects", "Projects");
        await page.GetByLabel("Show archived projects only").CheckAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = $"Unarchive {name}" }).ClickAsync();
        await Expect(download).ToHaveCountAsync(0);
        await page.GetByLabel("Show archived projects only").UncheckAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = $"Archive {name}" })).ToBeVisibleAsync();
        Assert.Empty(browser.CspViolations);
    }

    [Fact]
    public async Task Remove_completed_takes_only_the_finished_mappings_of_the_selection_then_of_the_whole_project_and_says_why_the_others_stay()
    {
        await using var server = await ServerHost.StartLiveAsync();
        var project = await server.Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await server.Client.ImportDevicesAsync(project, "PC", 4);
        await server.Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain" }, mappingIds = ids[..3] });
        await server.EndNextJobAsync(ids[0], JobStatus.Finished);
        await server.EndNextJobAsync(ids[1], JobStatus.Finished);
        await server.EndNextJobAsync(ids[2], JobStatus.Failed);
        await using var browser = await ConsoleBrowser.OpenAsync(server.BaseAddress);
        var page = browser.Page;
        await browser.SignInAsync("admin", ServerHost.AdminPassword);
        await browser.OpenAsync($"/projects/{project}", "mappings");

        // A selection of one finished and one failed mapping: only the finished one goes.
        await page.GetByLabel("Select PC0001").CheckAsync();
        await page.GetByLabel("Select PC0003").CheckAsync();
        await page.Locator("#remove-completed").ClickAsync();
        await Expect(page.Locator("#remove-completed-question")).ToContainTextAsync("among the 2 selected");
        await browser.ScreenshotAsync("console-remove-completed");
        await page.Locator("#remove-completed-confirm").ClickAsync();
        await Expect(page.Locator("#action-message")).ToContainTextAsync("Removed 1 completed mapping(s); kept 1: 1 because the latest job of a kind failed.");
        await Expect(page.Locator("#mappings-grid tr[data-device='PC0001']")).ToHaveCountAsync(0);
        await Expect(page.Locator("#mappings-grid tr[data-device='PC0003']")).ToHaveCountAsync(1);

        // Nothing selected: the whole project; the never-run mapping stays too.
        await page.Locator("#remove-completed").ClickAsync();
        await Expect(page.Locator("#remove-completed-question")).ToContainTextAsync("of the whole project");
        await page.Locator("#remove-completed-confirm").ClickAsync();
        await Expect(page.Locator("#action-message")).ToContainTextAsync("Removed 1 completed mapping(s); kept 2");
        await Expect(page.Locator("#action-message")).ToContainTextAsync("1 because no job has changed the device yet");
        await Expect(page.Locator("#mappings-grid tr[data-device='PC0002']")).ToHaveCountAsync(0);
        var left = await server.Client.GetJsonAsync($"/api/v1/projects/{project}/mappings");
        Assert.Equal(["PC0003", "PC0004"], left.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("sourceDevice").GetString()).Order());
        Assert.Empty(browser.CspViolations);
    }

    [Fact]
    public async Task An_administrator_tells_an_agent_to_uninstall_and_the_page_says_who_asked()
    {
        await using var server = await ServerHost.StartLiveAsync();
        using var device = await server.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        await using var browser = await ConsoleBrowser.OpenAsync(server.BaseAddress);
        var page = browser.Page;
        await browser.SignInAsync("admin", ServerHost.AdminPassword);
        await browser.OpenAsync("/agents", "Agents");

        await page.GetByRole(AriaRole.Button, new() { Name = $"Uninstall the agent of {device.DeviceName}" }).ClickAsync();
        // A second click confirms: nothing is asked of the agent before it.
        await Expect(page.Locator($"#uninstall-question-{device.AgentId}")).ToContainTextAsync("only a new installation brings it back");
        var before = await server.Client.GetJsonAsync($"/api/v1/agents/{device.AgentId}");
        Assert.False(before.TryGetProperty("uninstall", out var asked) && asked.ValueKind != System.Text.Json.JsonValueKind.Null, before.ToString());
        await page.GetByRole(AriaRole.Button, new() { Name = $"Confirm the uninstall of the agent of {device.DeviceName}" }).ClickAsync();

        await Expect(page.Locator("#agents")).ToContainTextAsync("uninstall asked by admin");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = $"Uninstall the agent of {device.DeviceName}" })).ToHaveCountAsync(0);
        var agent = await server.Client.GetJsonAsync($"/api/v1/agents/{device.AgentId}");
        Assert.Equal("admin", agent.GetProperty("uninstall").GetProperty("requestedBy").GetString());
    }
}
