using Microsoft.Playwright;
using Rehome.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Rehome.Console.Tests;

/// <summary>The Agent versions page: the fleet's versions, a package uploaded through the form, made current and deleted.</summary>
public sealed class AgentVersionsPageTests
{
    static AgentVersionsPageTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task An_administrator_uploads_a_signed_package_makes_it_current_sees_the_fleet_against_it_and_deletes_an_older_one()
    {
        using var publisher = new AgentPublisher();
        await using var server = await ServerHost.StartLiveAsync(PublisherServer.Settings(publisher));
        using var device = await server.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        await publisher.PublishAsync(server.Client, "3.1.0");
        var folder = System.IO.Directory.CreateTempSubdirectory("rehome-agent-package-");
        try
        {
            var zip = Path.Combine(folder.FullName, "rehome-agent-3.2.0.zip");
            var content = AgentPublisher.Zip("3.2.0");
            await File.WriteAllBytesAsync(zip, content);
            await using var browser = await ConsoleBrowser.OpenAsync(server.BaseAddress);
            var page = browser.Page;
            await browser.SignInAsync("admin", ServerHost.AdminPassword);
            await browser.OpenAsync("/agent-packages", "Agent versions");
            await Expect(page.Locator("#fleet-summary")).ToContainTextAsync("1 agent(s); no current version is set");

            // A signature that is not the publisher's is refused and nothing is stored.
            await browser.ChooseFilesAsync("#package-file", zip);
            await page.Locator("#package-version").FillAsync("3.2.0");
            await page.Locator("#package-signature").FillAsync(publisher.Sign(AgentPublisher.Zip("3.2.0")));
            await page.Locator("#upload-package").ClickAsync();
            await Expect(page.Locator("#package-signature ~ small.error")).ToContainTextAsync("does not verify with any configured publisher key");
            await Expect(page.Locator("#agent-packages tbody tr")).ToHaveCountAsync(1);

            await page.Locator("#package-signature").FillAsync(publisher.Sign(content));
            await page.Locator("#upload-package").ClickAsync();
            await Expect(page.Locator("p.notice[role=status]")).ToContainTextAsync("Version 3.2.0 uploaded");
            await page.GetByRole(AriaRole.Button, new() { Name = "Make 3.2.0 the current version" }).ClickAsync();
            await Expect(page.Locator("#fleet-summary")).ToContainTextAsync("agent(s) on 3.2.0");
            await Expect(page.Locator("#agent-packages tbody tr", new() { HasText = "3.2.0" })).ToContainTextAsync("current");
            await browser.ScreenshotAsync("console-agent-versions");

            await page.GetByRole(AriaRole.Button, new() { Name = "Delete version 3.1.0" }).ClickAsync();
            await Expect(page.Locator("#agent-packages tbody tr")).ToHaveCountAsync(1);
            var packages = await server.Client.GetJsonAsync("/api/v1/agent-packages");
            Assert.Equal(["3.2.0"], packages.GetProperty("packages").EnumerateArray().Select(p => p.GetProperty("version").GetString()));
            Assert.Empty(browser.CspViolations);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
