using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Core.Runs;
using Rehome.Server.Notifications;
using Rehome.Server.Runs;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Notifications;

/// <summary>
/// Each kind of event reaches a subscriber through the code that records it where it happens (a connection test, an
/// enrollment, the engine's lease sweep, the dispatcher's look at tokens), and old history is forgotten.
/// </summary>
public abstract class NotificationEventsSuite(NotificationWorld world)
{
    private const string Secret = "webhook-secret-0123456789";
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(60);

    private ServerHost Host => world.Host;

    private HttpClient Client => Host.Client;

    private async Task<DispatchResult> DispatchAsync()
    {
        await using var scope = Host.Scope();
        return await scope.ServiceProvider.GetRequiredService<NotificationDispatcher>().RunOnceAsync(CancellationToken.None);
    }

    private async Task<Guid> SubscribeAsync(WebhookReceiver receiver, Guid? project, string kind) =>
        (await Client.PostJsonAsync("/api/v1/notifications/subscriptions", new
        {
            name = ApiClient.Unique("sub"),
            projectId = project,
            events = new[] { kind },
            channel = "Webhook",
            webhookUrl = receiver.Url,
            webhookSecret = Secret,
        })).Id();

    /// <summary>Lets the dispatcher distribute, close the window and send; answers the one message the receiver took.</summary>
    private async Task<JsonElement> ReceivedAsync(WebhookReceiver receiver)
    {
        await DispatchAsync();
        Host.Time.Advance(Window);
        await DispatchAsync();
        var request = Assert.Single(receiver.Requests);
        Assert.True(request.SignatureValid, "the signature does not verify");
        using var body = JsonDocument.Parse(request.Body);
        return body.RootElement.Clone();
    }

    private static JsonElement Details(JsonElement message) => Assert.Single(message.GetProperty("events").EnumerateArray()).GetProperty("details");

    [Fact]
    public async Task A_bulk_enrollment_token_near_its_expiry_is_told_once_to_the_subscribers_of_a_project_that_uses_it()
    {
        await using var receiver = await WebhookReceiver.StartAsync(Secret);
        var expires = Host.Now + TimeSpan.FromDays(3);
        var source = await Client.PostJsonAsync("/api/v1/connections", new { name = ApiClient.Unique("src"), role = "Source", kind = "HybridIdentity" });
        var destinationName = ApiClient.Unique("dst");
        var destination = await Client.PostJsonAsync("/api/v1/connections", new
        {
            name = destinationName,
            role = "Destination",
            kind = "EntraId",
            destination = new { rejoinMethod = "Offline", bulkEnrollmentTokenExpiresAt = expires },
        });
        var policy = await Client.PostJsonAsync("/api/v1/policies", new { name = ApiClient.Unique("policy") });
        var project = (await Client.PostJsonAsync("/api/v1/projects", new
        {
            name = ApiClient.Unique("project"),
            sourceConnectionId = source.GetProperty("connection").Id(),
            destinationConnectionId = destination.GetProperty("connection").Id(),
            policyId = policy.Id(),
        })).Id();
        await SubscribeAsync(receiver, project, "BulkEnrollmentTokenExpiring");

        var message = await ReceivedAsync(receiver);
        Host.Time.Advance(TimeSpan.FromHours(1));
        var again = await DispatchAsync();

        Assert.Equal("BulkEnrollmentTokenExpiring", message.GetProperty("kind").GetString());
        Assert.Equal(project, message.GetProperty("project").GetProperty("id").GetGuid());
        var details = Details(message);
        Assert.Equal(destinationName, details.GetProperty("connection").GetString());
        Assert.Contains($"expires {expires.UtcDateTime:yyyy-MM-dd}", details.GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, again.Recorded);
        Assert.Single(receiver.Requests);
    }

    [Fact]
    public async Task A_failing_connection_test_is_told_to_the_subscribers_of_a_project_that_uses_the_connection()
    {
        await using var receiver = await WebhookReceiver.StartAsync(Secret);
        var project = await Client.CreateProjectAsync("EntraId", "Offline");
        var connection = (await Client.GetJsonAsync($"/api/v1/projects/{project}")).GetProperty("destinationConnectionId").GetGuid();
        var connectionName = (await Client.GetJsonAsync($"/api/v1/connections/{connection}")).GetProperty("name").GetString();
        await SubscribeAsync(receiver, project, "ConnectionTestFailed");

        // No provisioning package was uploaded: the test fails.
        var report = await Client.PostJsonAsync($"/api/v1/connections/{connection}/test", new { }, HttpStatusCode.OK);
        var message = await ReceivedAsync(receiver);

        Assert.False(report.GetProperty("succeeded").GetBoolean());
        Assert.Equal("ConnectionTestFailed", message.GetProperty("kind").GetString());
        var details = Details(message);
        Assert.Equal(connectionName, details.GetProperty("connection").GetString());
        Assert.Contains("Provisioning package", details.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_enrollment_held_for_approval_is_told_to_the_subscribers_of_the_devices_project()
    {
        await using var receiver = await WebhookReceiver.StartAsync(Secret);
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        await SubscribeAsync(receiver, device.ProjectId, "DeviceAwaitingApproval");
        using var newcomer = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Host.Time.Advance(TimeSpan.FromSeconds(1));

        var held = await Host.EnrollAsync(device.ConfigurationKey, device.DeviceName, newcomer, "OTHER-HW");
        var message = await ReceivedAsync(receiver);

        Assert.Equal(HttpStatusCode.Accepted, held.StatusCode);
        Assert.Equal("DeviceAwaitingApproval", message.GetProperty("kind").GetString());
        Assert.Equal(device.ProjectId, message.GetProperty("project").GetProperty("id").GetGuid());
        var details = Details(message);
        Assert.Equal(device.DeviceName, details.GetProperty("device").GetString());
        Assert.Equal("EnrollmentHeld", details.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task A_lapsed_lease_is_told_as_an_agent_offline_during_the_run()
    {
        await using var receiver = await WebhookReceiver.StartAsync(Secret);
        var project = await Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Client.ImportDevicesAsync(project, "L" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant(), 1);
        await Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain" }, mappingIds = ids });
        await SubscribeAsync(receiver, project, "AgentOfflineDuringRun");
        var lease = TimeSpan.FromMinutes(1);
        Job? leased;
        await using (var scope = Host.Scope())
        {
            leased = await scope.ServiceProvider.GetRequiredService<JobTransitions>().LeaseNextAsync(ids[0], Guid.NewGuid(), lease, CancellationToken.None);
        }

        Host.Time.Advance(lease + TimeSpan.FromSeconds(1));
        await using (var scope = Host.Scope())
        {
            await scope.ServiceProvider.GetRequiredService<RunEngineService>().TickAsync(CancellationToken.None);
        }
        var message = await ReceivedAsync(receiver);

        Assert.Equal("AgentOfflineDuringRun", message.GetProperty("kind").GetString());
        var details = Details(message);
        Assert.Equal(leased!.Id, details.GetProperty("jobId").GetGuid());
        Assert.Equal(JobErrorCodes.LeaseLapsed, details.GetProperty("reason").GetString());
        Assert.Equal("RejoinDomain", details.GetProperty("jobKind").GetString());
    }
}

public sealed class NotificationEventsOnSqlite(SqliteNotificationWorld world) : NotificationEventsSuite(world), IClassFixture<SqliteNotificationWorld>;

public sealed class NotificationEventsOnPostgres(PostgresNotificationWorld world) : NotificationEventsSuite(world), IClassFixture<PostgresNotificationWorld>;
