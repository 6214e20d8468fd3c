using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Rehome.Server.Notifications;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Notifications;

/// <summary>Two servers on one PostgreSQL database, both dispatching at once: one batch is one message, never two.</summary>
public sealed class TwoDispatchersTests
{
    private const string Secret = "webhook-secret-0123456789";

    /// <summary>A pass as the background service makes it: a unique-index refusal (both opening a window) is left to the next pass.</summary>
    private static async Task PassAsync(ServerHost host)
    {
        await using var scope = host.Scope();
        try
        {
            await scope.ServiceProvider.GetRequiredService<NotificationDispatcher>().RunOnceAsync(CancellationToken.None);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // The other replica opened the subscription's window first; these events go in at the next pass.
        }
    }

    private static async Task RecordFailuresAsync(ServerHost host, Guid project, int from, int count)
    {
        await using var scope = host.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var outbox = scope.ServiceProvider.GetRequiredService<NotificationOutbox>();
        await using var transaction = await db.Database.BeginTransactionAsync();
        for (var i = from; i < from + count; i++)
        {
            await outbox.RecordAsync(NotificationEventKind.JobFailed, project, new NotificationEventData($"Rejoin domain failed on PC{i:D4}", Device: $"PC{i:D4}",
                Reason: "StepFailed"), CancellationToken.None);
        }
        await transaction.CommitAsync();
    }

    [Fact]
    public async Task Two_servers_dispatching_at_once_send_one_message_for_one_batch_never_two()
    {
        await using var a = await ServerHost.StartAsync(StoreProvider.PostgreSql);
        await using var b = await a.StartReplicaAsync();
        await using var receiver = await WebhookReceiver.StartAsync(Secret);
        var project = await a.Client.CreateProjectAsync();
        var subscription = (await a.Client.PostJsonAsync("/api/v1/notifications/subscriptions", new
        {
            name = ApiClient.Unique("sub"),
            projectId = project,
            events = new[] { "JobFailed" },
            channel = "Webhook",
            webhookUrl = receiver.Url,
            webhookSecret = Secret,
        })).Id();

        // Failures keep coming while both replicas distribute them; then the window ends and both try to close and send.
        for (var round = 0; round < 5; round++)
        {
            await Task.WhenAll(RecordFailuresAsync(round % 2 == 0 ? a : b, project, round * 100, 100), PassAsync(a), PassAsync(b));
        }
        await Task.WhenAll(PassAsync(a), PassAsync(b));
        await Task.WhenAll(PassAsync(a), PassAsync(b));
        foreach (var host in new[] { a, b })
        {
            host.Time.Advance(TimeSpan.FromSeconds(60));
        }
        for (var pass = 0; pass < 3; pass++)
        {
            await Task.WhenAll(PassAsync(a), PassAsync(b));
        }

        var request = Assert.Single(receiver.Requests);
        Assert.True(request.SignatureValid);
        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal(500, body.RootElement.GetProperty("total").GetInt32());
        var delivery = Assert.Single((await a.Client.GetJsonAsync($"/api/v1/notifications/subscriptions/{subscription}/deliveries")).EnumerateArray());
        Assert.Equal(("Delivered", 1, 500), (delivery.GetProperty("status").GetString(), delivery.GetProperty("attempts").GetInt32(), delivery.GetProperty("eventCount").GetInt32()));
    }
}
