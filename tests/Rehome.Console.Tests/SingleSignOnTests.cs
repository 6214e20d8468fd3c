using Microsoft.Playwright;
using Rehome.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Rehome.Console.Tests;

public sealed class SingleSignOnTests
{
    static SingleSignOnTests() => SetDefaultExpectTimeout(30_000);

    /// <remarks>
    /// The provider is on another site (localhost) than Rehome (127.0.0.1) and the way back starts on its page, so
    /// Chromium applies its cross-site rules: the correlation cookies must come back on the provider's redirect, and
    /// the console's SameSite=Strict cookie must be sent on the way to the page asked for.
    /// </remarks>
    [Fact]
    public async Task A_person_signs_in_with_the_provider_button_and_lands_on_the_page_they_asked_for()
    {
        await using var provider = await TestIdentityProvider.StartAsync(hostName: "localhost");
        provider.AsksToContinue = true;
        await using var host = await ServerHost.StartLiveAsync(provider.RehomeSettings());
        await provider.RegisterClientAsync(host.BaseAddress);
        provider.CurrentUser = new TestUser(Guid.NewGuid().ToString(), "dana@example.test", ["rehome-operators"]);
        await using var browser = await ConsoleBrowser.OpenAsync(host.BaseAddress);
        var page = browser.Page;

        await page.GotoAsync("/projects");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Sign in with Test provider" })).ToBeVisibleAsync();
        await browser.ScreenshotAsync("sign-in-single-sign-on");
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in with Test provider" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Projects" })).ToBeVisibleAsync();
        await Expect(page.GetByText("dana@example.test")).ToBeVisibleAsync();
    }
}
