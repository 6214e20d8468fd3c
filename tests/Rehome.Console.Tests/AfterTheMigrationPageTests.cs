using System.Net;
using Microsoft.Playwright;
using Rehome.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Rehome.Console.Tests;

/// <summary>After the migration in the console: archive and unarchive a project, download its zip, uninstall an agent.</summary>
public sealed class AfterTheMigrationPageTests
{
    static AfterTheMigrationPageTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task An_administrator_archives_a_project_finds_it_with_the_archived_box_downloads_its_zip_and_unarchives_it()
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

        await page.GetByRole(AriaRole.Button, new() { Name = $"Unarchive {name}" }).ClickAsync();
        await Expect(download).ToHaveCountAsync(0);
        await page.GetByLabel("Show archived projects only").UncheckAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = $"Archive {name}" })).ToBeVisibleAsync();
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

        await Expect(page.Locator("#agents")).ToContainTextAsync("uninstall asked by admin");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = $"Uninstall the agent of {device.DeviceName}" })).ToHaveCountAsync(0);
        var agent = await server.Client.GetJsonAsync($"/api/v1/agents/{device.AgentId}");
        Assert.Equal("admin", agent.GetProperty("uninstall").GetProperty("requestedBy").GetString());
    }
}
