using System.Net;
using System.Net.Http.Json;
using Microsoft.Playwright;
using Rehome.Server.Auth;
using Rehome.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Rehome.Console.Tests;

/// <summary>My account: anyone signed in with a password changes it; a single sign-on account is told why it cannot.</summary>
public sealed class MyAccountPageTests
{
    private const string NewPassword = "Brand-New-Secret-2027";

    static MyAccountPageTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task A_viewer_changes_their_password_with_each_refusal_beside_its_field_and_signs_in_with_the_new_one()
    {
        await using var server = await ServerHost.StartLiveAsync();
        var viewer = await server.CreateAsync(Role.Viewer);
        await using var browser = await ConsoleBrowser.SignedInAsync(server.BaseAddress, viewer.UserName, viewer.Password);
        var page = browser.Page;
        await page.GetByRole(AriaRole.Link, new() { Name = "My account" }).ClickAsync();
        await Expect(page.Locator("#account-role")).ToHaveTextAsync("Viewer");

        await page.GetByLabel("Current password").FillAsync("not-the-password");
        await page.GetByLabel("New password", new() { Exact = true }).FillAsync(NewPassword);
        await page.GetByLabel("New password again").FillAsync(NewPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Change my password" }).ClickAsync();
        await Expect(page.Locator("#current-password-error")).ToContainTextAsync("The current password is wrong");

        await page.GetByLabel("Current password").FillAsync(viewer.Password);
        await page.GetByLabel("New password", new() { Exact = true }).FillAsync("short");
        await page.GetByLabel("New password again").FillAsync("short");
        await page.GetByRole(AriaRole.Button, new() { Name = "Change my password" }).ClickAsync();
        await Expect(page.Locator("#new-password-error")).ToContainTextAsync("at least 14 characters");

        await page.GetByLabel("Current password").FillAsync(viewer.Password);
        await page.GetByLabel("New password", new() { Exact = true }).FillAsync(NewPassword);
        await page.GetByLabel("New password again").FillAsync(NewPassword + "x");
        await page.GetByRole(AriaRole.Button, new() { Name = "Change my password" }).ClickAsync();
        await Expect(page.Locator("#repeat-password-error")).ToContainTextAsync("type the same password twice");
        await browser.ScreenshotAsync("console-account");
        Assert.Equal(HttpStatusCode.OK, (await SignInAsync(server, viewer.UserName, viewer.Password)).StatusCode);

        await page.GetByLabel("Current password").FillAsync(viewer.Password);
        await page.GetByLabel("New password", new() { Exact = true }).FillAsync(NewPassword);
        await page.GetByLabel("New password again").FillAsync(NewPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Change my password" }).ClickAsync();
        await Expect(page.Locator("#password-changed")).ToContainTextAsync("Your password was changed");

        // The old password and the account's tokens are worth nothing now; the new password signs in.
        Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync(server, viewer.UserName, viewer.Password)).StatusCode);
        using (var client = viewer.Client(server))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync(new Uri("/api/v1/auth/me", UriKind.Relative))).StatusCode);
        }
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in with the new password" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await browser.SignInAsync(viewer.UserName, NewPassword);
        await browser.OpenAsync("/account", "My account");
        await Expect(page.Locator("#password-form")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_single_sign_on_account_is_told_why_it_has_no_password_to_change()
    {
        await using var provider = await TestIdentityProvider.StartAsync();
        await using var host = await ServerHost.StartLiveAsync(provider.RehomeSettings());
        await provider.RegisterClientAsync(host.BaseAddress);
        provider.CurrentUser = new TestUser(Guid.NewGuid().ToString(), "dana@example.test", ["rehome-operators"]);
        await using var browser = await ConsoleBrowser.OpenAsync(host.BaseAddress);
        var page = browser.Page;
        await page.GotoAsync("/sign-in");
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in with Test provider" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "My account" }).ClickAsync();
        await Expect(page.Locator("#single-sign-on-only")).ToContainTextAsync("signs in through single sign-on");
        await Expect(page.Locator("#password-form")).ToHaveCountAsync(0);
    }

    private static Task<HttpResponseMessage> SignInAsync(ServerHost server, string userName, string password) =>
        server.Anonymous.PostAsJsonAsync("/api/v1/auth/token", new { userName, password });
}
