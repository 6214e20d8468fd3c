using System.Net;
using System.Net.Http.Headers;
using Microsoft.Playwright;
using Rehome.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Rehome.Console.Tests;

/// <summary>The Accounts page: an administrator manages the people who use Rehome.</summary>
public sealed class AccountsPageTests
{
    static AccountsPageTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task An_administrator_creates_an_account_limits_it_to_a_project_disables_it_and_deletes_it()
    {
        await using var server = await ServerHost.StartLiveAsync();
        var project = await server.Client.CreateProjectAsync();
        var projectName = (await server.Client.GetJsonAsync($"/api/v1/projects/{project}")).GetProperty("name").GetString()!;
        await using var browser = await ConsoleBrowser.OpenAsync(server.BaseAddress);
        var page = browser.Page;
        await browser.SignInAsync("admin", ServerHost.AdminPassword);
        await page.GetByRole(AriaRole.Link, new() { Name = "Accounts" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Accounts", Exact = true })).ToBeVisibleAsync();

        // A weak password is said next to its field, and nothing is created.
        await page.GetByLabel("User name").FillAsync("pat");
        await page.GetByLabel("Role").SelectOptionAsync("Viewer");
        await page.GetByLabel("Password").FillAsync("short");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        await Expect(page.Locator("#account-password-error")).ToContainTextAsync("at least 14 characters");
        await Expect(page.Locator("tr[data-account='pat']")).ToHaveCountAsync(0);
        await page.GetByLabel("Password").FillAsync("Long-Enough-Secret-42");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        await Expect(page.Locator("tr[data-account='pat'] .account-role")).ToHaveTextAsync("Viewer");

        // Its role becomes Operator, limited to one project.
        await page.GetByRole(AriaRole.Button, new() { Name = "Edit pat" }).ClickAsync();
        await page.GetByLabel("Role").SelectOptionAsync("Operator");
        await page.GetByLabel(projectName).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save pat" }).ClickAsync();
        await Expect(page.Locator("tr[data-account='pat'] .account-role")).ToHaveTextAsync("Operator");
        await Expect(page.Locator("tr[data-account='pat']")).ToContainTextAsync(projectName);
        await browser.ScreenshotAsync("accounts");

        // The only administrator cannot disable itself: the rule says why.
        await page.GetByRole(AriaRole.Button, new() { Name = "Disable admin" }).ClickAsync();
        await Expect(page.Locator("#accounts-failure")).ToContainTextAsync("last enabled administrator");

        // Disabling the account ends its token at once; deleting it removes it from the list.
        var token = await server.SignInAsync("pat", "Long-Enough-Secret-42");
        await page.GetByRole(AriaRole.Button, new() { Name = "Disable pat" }).ClickAsync();
        await Expect(page.Locator("tr[data-account='pat'] .account-state")).ToContainTextAsync("disabled");
        using (var client = new HttpClient { BaseAddress = server.BaseAddress })
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync(new Uri("/api/v1/auth/me", UriKind.Relative))).StatusCode);
        }
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete pat" }).ClickAsync();
        await Expect(page.Locator("tr[data-account='pat']")).ToHaveCountAsync(0);
    }
}
