using Microsoft.Playwright;

namespace Rehome.Console.Tests;

/// <summary>
/// Debian's Chromium (installed by scripts/setup/40-chromium.sh), driven headless by Playwright, on one page of
/// the console. Playwright's own browser download is never used.
/// </summary>
public sealed class ConsoleBrowser : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private readonly IPlaywright playwright;
    private readonly IBrowser browser;

    private ConsoleBrowser(IPlaywright playwright, IBrowser browser, IBrowserContext context, IPage page, Uri server)
    {
        this.playwright = playwright;
        this.browser = browser;
        Context = context;
        Page = page;
        Server = server;
    }

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> violations = new();

    public IBrowserContext Context { get; }

    /// <summary>What the page's Content-Security-Policy blocked so far, as Chromium said it.</summary>
    public IReadOnlyCollection<string> CspViolations => violations;

    public IPage Page { get; }

    public Uri Server { get; }

    public static async Task<ConsoleBrowser> OpenAsync(Uri server)
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: run scripts/setup/40-chromium.sh (./test.sh does).");
        }
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
        });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = server.ToString(),
            ViewportSize = new ViewportSize { Width = 1400, Height = 900 },
            AcceptDownloads = true,
        });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        var opened = new ConsoleBrowser(playwright, browser, context, page, server);
        // Chromium reports what the Content-Security-Policy blocked on the page's console.
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal))
            {
                opened.violations.Enqueue($"{message.Text} ({message.Location} on {page.Url})");
            }
        };
        return opened;
    }

    /// <summary>Opens a browser on <paramref name="server"/>, signed in as <paramref name="userName"/>.</summary>
    public static async Task<ConsoleBrowser> SignedInAsync(Uri server, string userName, string password)
    {
        var browser = await OpenAsync(server);
        try
        {
            await browser.SignInAsync(userName, password);
            return browser;
        }
        catch
        {
            // A failed sign-in leaves no Chromium behind.
            await browser.DisposeAsync();
            throw;
        }
    }

    /// <summary>Signs in through the sign-in form and waits for the dashboard.</summary>
    public async Task SignInAsync(string userName, string password)
    {
        await Page.GotoAsync("/sign-in");
        await Page.GetByLabel("User name").FillAsync(userName);
        await Page.GetByLabel("Password").FillAsync(password);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" }).WaitForAsync();
    }

    /// <summary>Opens a console page and waits until its interactive part is connected (its heading is shown and Blazor has started).</summary>
    public async Task OpenAsync(string path, string heading)
    {
        await Page.GotoAsync(path);
        await Page.GetByRole(AriaRole.Heading, new() { Name = heading }).First.WaitForAsync();
        await WaitInteractiveAsync();
    }

    /// <summary>
    /// Waits until no prerendered part of the page is still dead HTML: a prerendered page (marked
    /// <c>data-prerendered</c>) shows its rows before its circuit connects, and a click before
    /// <c>data-interactive</c> is lost. Pages rendered only once connected have no marker and pass at once.
    /// </summary>
    public async Task WaitInteractiveAsync() =>
        await Page.WaitForFunctionAsync("() => document.querySelector('[data-prerendered]:not([data-interactive])') === null");

    /// <summary>
    /// Chooses files in a Blazor InputFile once its change handler is attached. The page's heading can be on screen
    /// before InputFile's first-render script has run; a file chosen in between is silently dropped (seen in CI).
    /// </summary>
    public async Task ChooseFilesAsync(string selector, params FilePayload[] files) =>
        await (await WiredInputAsync(selector)).SetInputFilesAsync(files);

    /// <inheritdoc cref="ChooseFilesAsync(string, FilePayload[])"/>
    public async Task ChooseFilesAsync(string selector, string path) =>
        await (await WiredInputAsync(selector)).SetInputFilesAsync(path);

    private async Task<ILocator> WiredInputAsync(string selector)
    {
        var input = Page.Locator(selector);
        await input.WaitForAsync();
        await Page.WaitForFunctionAsync("s => document.querySelector(s)?._blazorInputFileNextFileId !== undefined", selector);
        return input;
    }

    /// <summary>
    /// Saves a screenshot of the top of the page as NAME.png: in docs/screenshots (the README links them) when
    /// REHOME_SAVE_SCREENSHOTS=1, otherwise in a temporary folder, so that a test run leaves the tree as it was.
    /// </summary>
    public async Task ScreenshotAsync(string name)
    {
        await Page.EvaluateAsync("window.scrollTo(0, 0)");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, name + ".png"), FullPage = false });
    }

    public static string ScreenshotFolder
    {
        get
        {
            if (Environment.GetEnvironmentVariable("REHOME_SAVE_SCREENSHOTS") != "1")
            {
                var temporary = Path.Combine(Path.GetTempPath(), "rehome-screenshots");
                System.IO.Directory.CreateDirectory(temporary);
                return temporary;
            }
            var folder = new DirectoryInfo(AppContext.BaseDirectory);
            while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Rehome.slnx")))
            {
                folder = folder.Parent;
            }
            var path = Path.Combine(folder?.FullName ?? AppContext.BaseDirectory, "docs", "screenshots");
            System.IO.Directory.CreateDirectory(path);
            return path;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Context.DisposeAsync();
        await browser.DisposeAsync();
        playwright.Dispose();
    }
}
