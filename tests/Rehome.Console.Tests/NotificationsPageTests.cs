using Microsoft.Playwright;
using Rehome.Server.Tests.Infrastructure;
using Rehome.Server.Tests.Notifications;
using static Microsoft.Playwright.Assertions;

namespace Rehome.Console.Tests;

/// <summary>The Notifications page: an administrator subscribes a webhook, sends it a test message and reads its delivery history.</summary>
public sealed class NotificationsPageTests
{
    private const string Secret = "console-webhook-secret-0123456789";

    static NotificationsPageTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task An_administrator_creates_a_webhook_subscription_sends_a_test_message_and_sees_it_in_the_history_and_a_bad_url_is_refused_naming_the_field()
    {
        await using var server = await ServerHost.StartLiveAsync();
        await using var receiver = await WebhookReceiver.StartAsync(Secret);
        await using var browser = await ConsoleBrowser.OpenAsync(server.BaseAddress);
        var page = browser.Page;
        await browser.SignInAsync("admin", ServerHost.AdminPassword);
        await page.GetByRole(AriaRole.Link, new() { Name = "Notifications" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Notifications", Exact = true })).ToBeVisibleAsync();

        // A URL that is not https is said next to its field, and nothing is created.
        await page.Locator("#subscription-name").FillAsync("Ops hook");
        await page.GetByLabel("Job failed").CheckAsync();
        await page.GetByLabel("Run finished").CheckAsync();
        await page.GetByLabel("Channel").SelectOptionAsync("Webhook");
        await page.GetByLabel("Webhook URL").FillAsync("ftp://hooks.example.com/rehome");
        await page.GetByLabel("Webhook secret").FillAsync(Secret);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create subscription" }).ClickAsync();
        await Expect(page.Locator("#subscription-webhook-url-error")).ToContainTextAsync("absolute https://");
        await Expect(page.GetByLabel("Webhook URL")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.Locator("tr[data-subscription='Ops hook']")).ToHaveCountAsync(0);

        await page.GetByLabel("Webhook URL").FillAsync(receiver.Url);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create subscription" }).ClickAsync();
        await Expect(page.Locator("tr[data-subscription='Ops hook']")).ToContainTextAsync("Run finished, Job failed");

        // The test message goes out at once, and the history shows its attempt.
        await page.GetByRole(AriaRole.Button, new() { Name = "Send a test message to Ops hook" }).ClickAsync();
        await Expect(page.Locator("#notifications-message")).ToContainTextAsync("delivered (200)");
        await Expect(page.Locator("#deliveries tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("#deliveries .delivery-status")).ToHaveTextAsync("Delivered");
        await Expect(page.Locator("#deliveries .attempt-code")).ToHaveTextAsync("200");
        var request = Assert.Single(receiver.Requests);
        Assert.True(request.SignatureValid);

        // The secret is write-only: editing says it is set and offers to replace it, never shows it.
        await page.GetByRole(AriaRole.Button, new() { Name = "Edit Ops hook" }).ClickAsync();
        await Expect(page.GetByLabel("Replace the webhook secret")).ToHaveValueAsync("");
        await Expect(page.Locator("#subscription-webhook-secret-hint")).ToContainTextAsync("A secret is set");
        Assert.DoesNotContain(Secret, await page.ContentAsync(), StringComparison.Ordinal);
        await page.GetByLabel("Enabled").UncheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save Ops hook" }).ClickAsync();
        await Expect(page.Locator("tr[data-subscription='Ops hook'] .subscription-state")).ToHaveTextAsync("disabled");
        await browser.ScreenshotAsync("notifications");

        await page.GetByRole(AriaRole.Button, new() { Name = "Delete Ops hook" }).ClickAsync();
        await Expect(page.Locator("tr[data-subscription='Ops hook']")).ToHaveCountAsync(0);
        Assert.Empty(browser.CspViolations);
    }
}
