using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using Rehome.Server.Auth;
using Rehome.Server.Hosting;
using static Microsoft.Playwright.Assertions;

namespace Rehome.Console.Tests;

/// <summary>A server started with the console's first-run setup: no administrator until one is set up in the browser.</summary>
public sealed class FirstRunTests
{
    static FirstRunTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task The_first_administrator_is_set_up_with_the_printed_code_then_signs_out_and_in()
    {
        var folder = Path.Combine(Path.GetTempPath(), "rehome-tests", Guid.NewGuid().ToString("N"));
        var builder = RehomeServer.CreateBuilder(
        [
            "--urls=http://127.0.0.1:0", $"--Rehome:Store:DataDirectory={folder}", "--Rehome:Bootstrap:SetupInConsole=true",
        ]);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        await using var app = await RehomeServer.BuildAsync(builder);
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        // The code the server printed on its console at start.
        var code = app.Services.GetRequiredService<FirstRunSetup>().Open();
        await using var browser = await ConsoleBrowser.OpenAsync(address);
        var page = browser.Page;

        // Any page leads to the setup while no administrator exists; a wrong code and a weak password are said next to their fields.
        await page.GotoAsync("/projects");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Set up Rehome" })).ToBeVisibleAsync();
        await page.GetByLabel("Setup code").FillAsync("not-the-code");
        await page.GetByLabel("User name").FillAsync("ops-admin");
        await page.GetByLabel("Password").FillAsync("Long-Enough-Passw0rd");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create the administrator" }).ClickAsync();
        await Expect(page.Locator("#setupCode-error")).ToContainTextAsync("setup code is wrong");
        await page.GetByLabel("Setup code").FillAsync(code);
        await page.GetByLabel("Password").FillAsync("short");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create the administrator" }).ClickAsync();
        await Expect(page.Locator("#password-error")).ToContainTextAsync("at least 14 characters");
        await browser.ScreenshotAsync("setup");
        await page.GetByLabel("Setup code").FillAsync(code);
        await page.GetByLabel("Password").FillAsync("Long-Enough-Passw0rd");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create the administrator" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();

        // Setup is over; signing out leads back to the sign-in, where the new administrator signs in.
        await page.GotoAsync("/setup");
        await Expect(page.GetByText("Rehome is set up already")).ToBeVisibleAsync();
        await page.GotoAsync("/");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await page.GotoAsync("/agents");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await browser.SignInAsync("ops-admin", "Long-Enough-Passw0rd");

        await app.StopAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            System.IO.Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // Left for the temp folder's clean-up.
        }
    }
}
