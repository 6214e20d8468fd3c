using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Playwright;
using Rehome.Server.Auth;
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
        await using var browser = await ConsoleBrowser.SignedInAsync(server.BaseAddress, "admin", ServerHost.AdminPassword);
        var page = browser.Page;
        await page.GetByRole(AriaRole.Link, new() { Name = "Accounts" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Accounts", Exact = true })).ToBeVisibleAsync();

        // A weak password is said next to its field, and nothing is created.
        await page.GetByLabel("User name").FillAsync("pat");
        await page.GetByLabel("Role").SelectOptionAsync("Viewer");
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync("short");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        await Expect(page.Locator("#account-password-error")).ToContainTextAsync("at least 14 characters");
        await Expect(page.Locator("tr[data-account='pat']")).ToHaveCountAsync(0);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync("Long-Enough-Secret-42");
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
        await Expect(page.Locator("#account-delete-confirm")).ToContainTextAsync("the audit log keeps its name");
        await page.Locator("#account-delete-ok").ClickAsync();
        await Expect(page.Locator("tr[data-account='pat']")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task An_administrator_resets_a_forgotten_password_which_ends_the_old_one_and_its_tokens()
    {
        await using var server = await ServerHost.StartLiveAsync();
        var operatorAccount = await server.CreateAsync(Role.Operator);
        await using var browser = await ConsoleBrowser.SignedInAsync(server.BaseAddress, "admin", ServerHost.AdminPassword);
        var page = browser.Page;
        await browser.OpenAsync("/accounts", "Accounts");

        // The password rules' message beside the field; the old password still works.
        await page.GetByRole(AriaRole.Button, new() { Name = $"Reset the password of {operatorAccount.UserName}" }).ClickAsync();
        await page.GetByLabel("New password").FillAsync("short");
        await page.GetByRole(AriaRole.Button, new() { Name = "Set the new password" }).ClickAsync();
        await Expect(page.Locator("#account-new-password-error")).ToContainTextAsync("at least 14 characters");
        await server.SignInAsync(operatorAccount.UserName, operatorAccount.Password);

        await page.GetByLabel("New password").FillAsync("Handed-On-Secret-2027");
        await page.GetByRole(AriaRole.Button, new() { Name = "Set the new password" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"The password of {operatorAccount.UserName} was reset");
        await Expect(page.Locator("#account-reset-form")).ToHaveCountAsync(0);

        await server.SignInAsync(operatorAccount.UserName, "Handed-On-Secret-2027");
        using var old = operatorAccount.Client(server);
        Assert.Equal(HttpStatusCode.Unauthorized, (await old.GetAsync(new Uri("/api/v1/auth/me", UriKind.Relative))).StatusCode);
        var refused = await server.Anonymous.PostAsJsonAsync("/api/v1/auth/token", new { userName = operatorAccount.UserName, password = operatorAccount.Password });
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }
}
