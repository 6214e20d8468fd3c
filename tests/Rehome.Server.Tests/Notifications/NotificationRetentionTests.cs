using System.Net;
using System.Net.Http.Headers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Core.Runs;
using Rehome.Server.Notifications;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Notifications;

/// <summary>The dispatcher forgets delivery history older than <c>HistoryRetention</c> (90 days by default).</summary>
public sealed class NotificationRetentionTests
{
    private const string Secret = "webhook-secret-0123456789";

    private ServerHost Host { get; set; } = null!;

    private HttpClient Client => Host.Client;

    private async Task<DispatchResult> DispatchAsync()
    {
        await using var scope = Host.Scope();
        return await scope.ServiceProvider.GetRequiredService<NotificationDispatcher>().RunOnceAsync(CancellationToken.None);
    }

    /// <summary>The administrator's token lasts less than the months this test moves the clock by.</summary>
    private async Task SignInAgainAsync() =>
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await Host.SignInAsync("admin", ServerHost.AdminPassword));

    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.PostgreSql)]
    public async Task Messages_attempts_and_events_older_than_the_retention_are_pruned_by_the_dispatcher_and_newer_ones_kept(StoreProvider provider)
    {
        await using var host = await ServerHost.StartAsync(provider);
        Host = host;
        await using var receiver = await WebhookReceiver.StartAsync(Secret);
        var project = await Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Client.ImportDevicesAsync(project, "R" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant(), 1);
        await Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain" }, mappingIds = ids });
        var subscription = (await Client.PostJsonAsync("/api/v1/notifications/subscriptions", new
        {
            name = "retention",
            projectId = project,
            events = new[] { "JobFailed" },
            channel = "Webhook",
            webhookUrl = receiver.Url,
            webhookSecret = Secret,
        })).Id();
        await Host.EndNextJobAsync(ids[0], JobStatus.Failed);
        await DispatchAsync();
        Host.Time.Advance(TimeSpan.FromSeconds(60));
        await DispatchAsync();
        Assert.Single(receiver.Requests);
        var old = await DeliveryIdsAsync(subscription);
        var oldEvents = await EventsOfAsync(old);

        Host.Time.Advance(TimeSpan.FromDays(89));
        await SignInAgainAsync();
        var early = await DispatchAsync();
        var keptEarly = await DeliveryIdsAsync(subscription);
        Host.Time.Advance(TimeSpan.FromDays(2));
        await SignInAgainAsync();
        var recent = (await Client.PostJsonAsync($"/api/v1/notifications/subscriptions/{subscription}/test", new { }, HttpStatusCode.OK)).Id();
        var late = await DispatchAsync();

        Assert.Single(old);
        Assert.Single(oldEvents);
        Assert.Equal(0, early.Pruned);
        Assert.Equal(old, keptEarly);
        Assert.Equal(2, late.Pruned);
        Assert.Equal([recent], await DeliveryIdsAsync(subscription));
        await using var scope = Host.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        Assert.False(await db.NotificationAttempts.AnyAsync(a => old.Contains(a.DeliveryId)));
        Assert.False(await db.NotificationDeliveryEvents.AnyAsync(l => old.Contains(l.DeliveryId)));
        Assert.False(await db.NotificationEvents.AnyAsync(e => oldEvents.Contains(e.Id)));
        Assert.True(await db.NotificationAttempts.AnyAsync(a => a.DeliveryId == recent));
    }

    private async Task<List<Guid>> DeliveryIdsAsync(Guid subscription) =>
        [.. (await Client.GetJsonAsync($"/api/v1/notifications/subscriptions/{subscription}/deliveries")).EnumerateArray().Select(d => d.Id())];

    private async Task<List<long>> EventsOfAsync(List<Guid> deliveries)
    {
        await using var scope = Host.Scope();
        return await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().NotificationDeliveryEvents.AsNoTracking()
            .Where(l => deliveries.Contains(l.DeliveryId)).Select(l => l.EventId).ToListAsync();
    }
}
