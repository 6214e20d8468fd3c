using System.Net;
using Microsoft.Playwright;
using Rehome.Server.Auth;
using Rehome.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Rehome.Console.Tests;

/// <summary>The Projects page: a project is edited and deleted through the same rules as the API.</summary>
public sealed class ProjectsPageTests
{
    static ProjectsPageTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task A_project_is_edited_with_each_refusal_beside_its_field_and_deleted_unless_an_account_is_limited_to_it()
    {
        await using var server = await ServerHost.StartLiveAsync();
        var edited = await server.Client.CreateProjectAsync();
        var kept = await server.Client.CreateProjectAsync();
        var keptName = (await server.Client.GetJsonAsync($"/api/v1/projects/{kept}")).GetProperty("name").GetString()!;
        var editedName = (await server.Client.GetJsonAsync($"/api/v1/projects/{edited}")).GetProperty("name").GetString()!;
        var policy = (await server.Client.PostJsonAsync("/api/v1/policies", new { name = "Wave 2 policy" })).Id();
        await server.CreateAsync(Role.Viewer, [kept]);
        await using var browser = await ConsoleBrowser.SignedInAsync(server.BaseAddress, "admin", ServerHost.AdminPassword);
        var page = browser.Page;
        await browser.OpenAsync("/projects", "Projects");

        // An empty name is said beside the field; another project's name is refused as the API refuses it.
        await page.GetByRole(AriaRole.Button, new() { Name = $"Edit {editedName}" }).ClickAsync();
        await Expect(page.Locator("#project-form-title")).ToHaveTextAsync($"Edit {editedName}");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("");
        await page.GetByRole(AriaRole.Button, new() { Name = $"Save {editedName}" }).ClickAsync();
        await Expect(page.Locator("#project-name-error")).ToContainTextAsync("The project name is required");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(keptName);
        await page.GetByRole(AriaRole.Button, new() { Name = $"Save {editedName}" }).ClickAsync();
        await Expect(page.Locator("#project-failure")).ToContainTextAsync($"A project named '{keptName}' already exists");
        Assert.Equal(editedName, (await server.Client.GetJsonAsync($"/api/v1/projects/{edited}")).GetProperty("name").GetString());

        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Wave 2");
        await page.GetByLabel("Tags").FillAsync("pilot, hq");
        await page.GetByLabel("Migration policy").SelectOptionAsync(new SelectOptionValue { Label = "Wave 2 policy" });
        await browser.ScreenshotAsync("console-project-edit");
        await page.GetByRole(AriaRole.Button, new() { Name = $"Save {editedName}" }).ClickAsync();
        await Expect(page.Locator("#projects-message")).ToContainTextAsync("Saved Wave 2");
        await Expect(page.Locator("tr[data-project='Wave 2']")).ToContainTextAsync("pilot, hq");
        await Expect(page.Locator("tr[data-project='Wave 2']")).ToContainTextAsync("Wave 2 policy");
        var stored = await server.Client.GetJsonAsync($"/api/v1/projects/{edited}");
        Assert.Equal("Wave 2", stored.GetProperty("name").GetString());
        Assert.Equal(["pilot", "hq"], stored.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(policy, stored.GetProperty("policyId").GetGuid());

        // A project an account is limited to stays, and the page says why; another goes after its confirmation.
        await page.GetByRole(AriaRole.Button, new() { Name = $"Delete {keptName}" }).ClickAsync();
        await Expect(page.Locator("#project-delete-confirm")).ToContainTextAsync("0 mapping(s) go with it");
        await page.Locator("#project-delete-ok").ClickAsync();
        await Expect(page.Locator("#projects-failure")).ToContainTextAsync($"are limited to the project '{keptName}'");
        await server.Client.GetJsonAsync($"/api/v1/projects/{kept}");

        await page.GetByRole(AriaRole.Button, new() { Name = "Delete Wave 2" }).ClickAsync();
        await page.Locator("#project-delete-ok").ClickAsync();
        await Expect(page.Locator("tr[data-project='Wave 2']")).ToHaveCountAsync(0);
        await server.Client.GetJsonAsync($"/api/v1/projects/{edited}", HttpStatusCode.NotFound);
    }
}
