using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;
using Rehome.Server.Tests.Notifications;

namespace Rehome.Cli.Tests;

/// <summary><c>rehome notifications</c> against a real server and a loopback webhook receiver that checks the signature.</summary>
public sealed partial class CliTests
{
    private const string WebhookSecret = "cli-webhook-secret-0123456789";

    private static JsonArray JsonArrayOf(string output) => JsonNode.Parse(output)!.AsArray();

    [Fact]
    public async Task Notifications_are_added_listed_updated_tested_shown_with_their_deliveries_and_removed_by_name()
    {
        await LoginAsync();
        await using var receiver = await WebhookReceiver.StartAsync(WebhookSecret);
        var project = await Host.Client.CreateProjectAsync();
        var projectName = (await Host.Client.GetJsonAsync($"/api/v1/projects/{project}")).GetProperty("name").GetString()!;
        var name = "CLI hook " + Guid.NewGuid().ToString("N")[..6];

        var added = await RunAsync("notifications", "add", name, "--event", "JobFailed", "--event", "RunFinished", "--webhook", receiver.Url,
            "--secret", WebhookSecret, "--project", projectName);
        var listed = await RunAsync("notifications", "list", "--output", "json");
        var updated = await RunAsync("notifications", "update", name, "--event", "JobFailed", "--disable");
        var shown = await RunAsync("notifications", "show", name, "--output", "json");
        var tested = await RunAsync("notifications", "test", name);
        var table = await RunAsync("notifications", "deliveries", name);
        var history = await RunAsync("notifications", "deliveries", name, "--output", "json", "--limit", "5");
        var removed = await RunAsync("notifications", "remove", name);
        var after = await RunAsync("notifications", "list");

        Assert.True(added.Exit == 0, added.Output);
        Assert.Contains($"Subscription {name} created", added.Output, StringComparison.Ordinal);
        var mine = Assert.Single(JsonArrayOf(listed.Output), s => (string?)s!["name"] == name)!;
        Assert.Equal(["JobFailed", "RunFinished"], mine["events"]!.AsArray().Select(e => (string?)e));
        Assert.Equal(project, (Guid)mine["projectId"]!);
        Assert.True((bool)mine["webhookSecretSet"]!);
        Assert.DoesNotContain(WebhookSecret, listed.Output, StringComparison.Ordinal);
        Assert.True(updated.Exit == 0, updated.Output);
        var saved = JsonNode.Parse(shown.Output)!;
        Assert.Equal(["JobFailed"], saved["events"]!.AsArray().Select(e => (string?)e));
        Assert.False((bool)saved["enabled"]!);
        Assert.True((bool)saved["webhookSecretSet"]!);
        Assert.Equal(receiver.Url, (string?)saved["webhookUrl"]);
        Assert.True(tested.Exit == 0, tested.Output);
        Assert.Contains("Test message delivered (200)", tested.Output, StringComparison.Ordinal);
        var request = Assert.Single(receiver.Requests);
        Assert.True(request.SignatureValid);
        Assert.Contains("(test)", table.Output, StringComparison.Ordinal);
        Assert.Contains("│ 200 ", table.Output, StringComparison.Ordinal);
        var delivery = Assert.Single(JsonArrayOf(history.Output))!;
        Assert.Equal(request.DeliveryId, (string?)delivery["id"]);
        Assert.Equal(200, (int)delivery["history"]![0]!["statusCode"]!);
        Assert.Equal(0, removed.Exit);
        Assert.DoesNotContain(name, after.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_webhook_url_is_refused_naming_the_field_and_nothing_is_added()
    {
        await LoginAsync();
        var name = "CLI bad hook " + Guid.NewGuid().ToString("N")[..6];

        var (exit, output) = await RunAsync("notifications", "add", name, "--event", "JobFailed", "--webhook", "ftp://hooks.example.com/x", "--secret", WebhookSecret);
        var list = await RunAsync("notifications", "list", "--output", "json");

        Assert.Equal(2, exit);
        Assert.Contains("webhookUrl", output, StringComparison.Ordinal);
        Assert.Contains("InvalidUrl", output, StringComparison.Ordinal);
        Assert.DoesNotContain(JsonArrayOf(list.Output), s => (string?)s!["name"] == name);
    }

    [Fact]
    public async Task A_test_message_that_fails_exits_1_and_text_from_outside_is_printed_escaped_in_tables_and_in_json()
    {
        await LoginAsync();
        await using var receiver = await WebhookReceiver.StartAsync(WebhookSecret, 500);
        var name = "CLI failing hook " + Guid.NewGuid().ToString("N")[..6];
        Assert.Equal(0, (await RunAsync("notifications", "add", name, "--event", "JobFailed", "--webhook", receiver.Url, "--secret", WebhookSecret)).Exit);

        var tested = await RunAsync("notifications", "test", name);
        // An SMTP server's or a receiver's words stored raw (by a server that did not neutralise them): the CLI must not trust the store either.
        const string error = "refused \u001b[2J\u001b]0;owned\u0007 \u202Egnp.exe";
        await using (var scope = Host.Scope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
            await db.NotificationAttempts.Where(a => db.NotificationDeliveries.Any(d => d.Id == a.DeliveryId
                    && db.NotificationSubscriptions.Any(s => s.Id == d.SubscriptionId && s.Name == name)))
                .ExecuteUpdateAsync(u => u.SetProperty(a => a.Error, error));
        }
        var table = await RunAsync("notifications", "deliveries", name);
        var json = await RunAsync("notifications", "deliveries", name, "--output", "json");

        Assert.Equal(1, tested.Exit);
        Assert.Contains("Test message not delivered: 500", tested.Output, StringComparison.Ordinal);
        foreach (var output in new[] { table.Output, json.Output })
        {
            Assert.DoesNotContain(output, c => c is '\u001b' or '\u0007' or '\u202E');
            Assert.Contains("\\u001B[2J", output, StringComparison.Ordinal);
        }
        // The escapes are JSON's own: a script reads back exactly what was stored.
        Assert.Equal(error, (string?)JsonArrayOf(json.Output)[0]!["history"]![0]!["error"]);
    }
}
