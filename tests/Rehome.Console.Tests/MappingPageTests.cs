using System.Net;
using Microsoft.Playwright;
using Rehome.Core.Runs;
using Rehome.EndToEnd.Tests;
using Rehome.Server.Auth;
using Rehome.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Rehome.Console.Tests;

/// <summary>The mapping page: an operator edits, moves and deletes a mapping through the same rules as the API.</summary>
public sealed class MappingPageTests
{
    static MappingPageTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task An_operator_edits_a_mapping_and_sees_it_in_the_grid_and_the_store_and_a_bad_ou_is_said_beside_its_field()
    {
        await using var server = await ServerHost.StartLiveAsync();
        var project = await server.Client.CreateProjectAsync();
        var mapping = (await server.Client.ImportDevicesAsync(project, "PC", 2))[0];
        var operatorAccount = await server.CreateAsync(Role.Operator);
        await using var browser = await ConsoleBrowser.SignedInAsync(server.BaseAddress, operatorAccount.UserName, operatorAccount.Password);
        var page = browser.Page;
        await browser.OpenAsync($"/mappings/{mapping}", "PC0001");

        // A destination OU that is not a distinguished name: the rule's message beside the field, nothing stored.
        await page.Locator("#mapping-edit").ClickAsync();
        await Expect(page.Locator("#mapping-destination-user")).ToHaveValueAsync("user1@fabrikam.example");
        await page.Locator("#mapping-destination-name").FillAsync("NEW-0001");
        await page.Locator("#mapping-destination-ou").FillAsync("not a distinguished name");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save the mapping" }).ClickAsync();
        await Expect(page.Locator("#mapping-destination-ou-error")).ToContainTextAsync("is not a distinguished name");
        await Expect(page.Locator("#mapping-destination-ou")).ToHaveAttributeAsync("aria-invalid", "true");
        await browser.ScreenshotAsync("console-mapping-edit");
        var unchanged = await server.Client.GetJsonAsync($"/api/v1/mappings/{mapping}");
        Assert.Equal("PC0001", unchanged.GetProperty("destinationName").GetString());

        await page.Locator("#mapping-destination-ou").FillAsync("OU=Moved,DC=fabrikam,DC=example");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save the mapping" }).ClickAsync();
        await Expect(page.Locator("#report-message")).ToContainTextAsync("The mapping was saved");
        await Expect(page.Locator("#mapping-edit-form")).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "PC0001" })).ToContainTextAsync("NEW-0001");
        var saved = await server.Client.GetJsonAsync($"/api/v1/mappings/{mapping}");
        Assert.Equal("NEW-0001", saved.GetProperty("destinationName").GetString());
        Assert.Equal("OU=Moved,DC=fabrikam,DC=example", saved.GetProperty("destinationOu").GetString());

        await page.GetByRole(AriaRole.Link, new() { Name = "← Project mappings" }).ClickAsync();
        await Expect(page.Locator("#mappings-grid tr[data-device='PC0001']")).ToContainTextAsync("NEW-0001");
    }

    [Fact]
    public async Task A_mapping_moves_to_another_project_picked_among_those_the_account_is_limited_to()
    {
        await using var server = await ServerHost.StartLiveAsync();
        var from = await server.Client.CreateProjectAsync();
        var to = await server.Client.CreateProjectAsync();
        var unseen = await server.Client.CreateProjectAsync();
        var mapping = (await server.Client.ImportDevicesAsync(from, "PC", 1))[0];
        var operatorAccount = await server.CreateAsync(Role.Operator, [from, to]);
        await using var browser = await ConsoleBrowser.SignedInAsync(server.BaseAddress, operatorAccount.UserName, operatorAccount.Password);
        var page = browser.Page;
        await browser.OpenAsync($"/mappings/{mapping}", "PC0001");

        await page.Locator("#mapping-move").ClickAsync();
        var options = await page.Locator("#mapping-move-project option").AllTextContentsAsync();
        Assert.Equal(["(choose)", await NameOfAsync(server, to)], options);
        Assert.DoesNotContain(await NameOfAsync(server, unseen), options);
        await page.Locator("#mapping-move-project").SelectOptionAsync(new SelectOptionValue { Label = await NameOfAsync(server, to) });
        await page.GetByRole(AriaRole.Button, new() { Name = "Move", Exact = true }).ClickAsync();

        await Expect(page.Locator("#report-message")).ToContainTextAsync($"moved to the project '{await NameOfAsync(server, to)}'");
        Assert.Equal(to, (await server.Client.GetJsonAsync($"/api/v1/mappings/{mapping}")).GetProperty("projectId").GetGuid());
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "← Project mappings" })).ToHaveAttributeAsync("href", $"/projects/{to}");
    }

    [Fact]
    public async Task Moving_or_deleting_a_mapping_whose_job_waits_is_refused_with_the_reason_and_deleting_it_once_stopped_leaves_nothing()
    {
        await using var world = await LiveWorld.StartAsync(1, [JobKind.RejoinDomain]);
        var runId = await world.RunAsync(JobKind.RejoinDomain);
        await world.WaitForJobAsync(runId, 1, JobKind.RejoinDomain, s => s == JobStatus.WaitingToStart, "the rejoin to wait for its agent");
        var other = await world.Server.Client.CreateProjectAsync();
        var mapping = world.MappingOf(1);
        await using var browser = await ConsoleBrowser.SignedInAsync(world.Server.BaseAddress, "admin", ServerHost.AdminPassword);
        var page = browser.Page;
        await browser.OpenAsync($"/mappings/{mapping}", "CTS-PC00001");

        await page.Locator("#mapping-move").ClickAsync();
        await page.Locator("#mapping-move-project").SelectOptionAsync(new SelectOptionValue { Label = await NameOfAsync(world.Server, other) });
        await page.GetByRole(AriaRole.Button, new() { Name = "Move", Exact = true }).ClickAsync();
        await Expect(page.Locator("#mapping-failure")).ToContainTextAsync("has jobs waiting or in progress; it can move when they are over");
        Assert.Equal(world.Scenario.ProjectId, (await world.Server.Client.GetJsonAsync($"/api/v1/mappings/{mapping}")).GetProperty("projectId").GetGuid());

        // The confirmation says what goes with the mapping; the refusal says why nothing went.
        await page.Locator("#mapping-delete").ClickAsync();
        await Expect(page.Locator("#delete-confirm")).ToContainTextAsync("1 run(s) of history");
        await page.Locator("#delete-ok").ClickAsync();
        await Expect(page.Locator("#mapping-failure")).ToContainTextAsync("stop them before deleting the mapping");
        await world.Server.Client.GetJsonAsync($"/api/v1/mappings/{mapping}");

        await page.GetByRole(AriaRole.Button, new() { Name = "Stop Rejoin domain" }).ClickAsync();
        await Expect(page.Locator("tr[data-job='RejoinDomain'] td.job-status")).ToHaveTextAsync("Stopped");
        await page.Locator("#mapping-delete").ClickAsync();
        await page.Locator("#delete-ok").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "mappings" })).ToBeVisibleAsync();
        await world.Server.Client.GetJsonAsync($"/api/v1/mappings/{mapping}", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_viewer_sees_no_edit_move_or_delete_on_a_mapping_and_no_edit_on_projects()
    {
        await using var server = await ServerHost.StartLiveAsync();
        var project = await server.Client.CreateProjectAsync();
        var mapping = (await server.Client.ImportDevicesAsync(project, "PC", 1))[0];
        var viewer = await server.CreateAsync(Role.Viewer);
        await using var browser = await ConsoleBrowser.SignedInAsync(server.BaseAddress, viewer.UserName, viewer.Password);
        var page = browser.Page;

        await browser.OpenAsync($"/mappings/{mapping}", "PC0001");
        await Expect(page.Locator("#device-log")).ToBeVisibleAsync();
        await Expect(page.Locator("#mapping-actions")).ToHaveCountAsync(0);
        // The only button is the header's Sign out.
        await Expect(page.GetByRole(AriaRole.Button)).ToHaveCountAsync(await page.Locator("header button").CountAsync());

        var name = await NameOfAsync(server, project);
        await browser.OpenAsync("/projects", "Projects");
        await Expect(page.Locator($"tr[data-project='{name}']")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = $"Edit {name}" })).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = $"Delete {name}" })).ToHaveCountAsync(0);
    }

    private static async Task<string> NameOfAsync(ServerHost server, Guid project) =>
        (await server.Client.GetJsonAsync($"/api/v1/projects/{project}")).GetProperty("name").GetString()!;
}
