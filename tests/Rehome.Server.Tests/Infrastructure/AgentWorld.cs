using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Protocol;
using Rehome.Server.Runs;
using Rehome.Server.Store;

namespace Rehome.Server.Tests.Infrastructure;

/// <summary>One server on SQLite with the simulated directory, shared by the tests of a class.</summary>
public sealed class SimulatedDirectoryServer : IAsyncLifetime
{
    /// <summary>A server's settings for agents enrolled through the simulated directory, as fast as tests enroll them.</summary>
    public static Dictionary<string, string?> Settings() => new()
    {
        ["Rehome:Directories:Mode"] = "Simulated",
        ["Rehome:Gateway:EnrollmentsPerMinute"] = "10000",
    };

    public ServerHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await ServerHost.StartAsync(StoreProvider.Sqlite, Settings());

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

/// <summary>
/// A project of one device whose agent enrolled, as a device would, through the real gateway, proving
/// <paramref name="DeviceKey"/> (the device's key pair) with <paramref name="ConfigurationKey"/>.
/// </summary>
public sealed record EnrolledDevice(
    Guid ProjectId, Guid SourceId, Guid DestinationId, Guid MappingId, string DeviceName, HttpClient Agent, Guid AgentId, string ConfigurationKey, ECDsa DeviceKey)
    : IDisposable
{
    public void Dispose()
    {
        Agent.Dispose();
        DeviceKey.Dispose();
    }
}

/// <summary>Sets up connections, a project and an enrolled agent, and drives runs to the agent's poll.</summary>
public static class AgentWorld
{
    /// <summary>
    /// A source (its settings from <paramref name="source"/>), a destination, a policy (from <paramref name="policy"/>),
    /// a project with one device, and that device's agent enrolled with the source's configuration key.
    /// </summary>
    public static async Task<EnrolledDevice> EnrollDeviceAsync(
        this ServerHost host, object destination, string sourceKind = "HybridIdentity", object? source = null, object? policy = null)
    {
        var client = host.Client;
        var sourceConnection = await client.PostJsonAsync("/api/v1/connections", new { name = ApiClient.Unique("src"), role = "Source", kind = sourceKind, source });
        var destinationConnection = await client.PostJsonAsync("/api/v1/connections", destination);
        var createdPolicy = await client.PostJsonAsync("/api/v1/policies", new { name = ApiClient.Unique("policy"), settings = policy });
        var project = await client.PostJsonAsync("/api/v1/projects", new
        {
            name = ApiClient.Unique("project"),
            sourceConnectionId = sourceConnection.GetProperty("connection").Id(),
            destinationConnectionId = destinationConnection.GetProperty("connection").Id(),
            policyId = createdPolicy.Id(),
        });
        var device = "PC" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var mappings = await client.PostCsvAsync($"/api/v1/projects/{project.Id()}/mappings/import",
            $"SourceDevice,DestinationName,DestinationOU,PrimaryUser,DestinationUser\n{device},,,CONTOSO\\ann,ann@fabrikam.example\n");
        var mapping = (await client.GetJsonAsync($"/api/v1/projects/{project.Id()}/mappings?search={device}")).GetProperty("items")[0].Id();

        var key = sourceConnection.GetProperty("configurationKey").GetString()!;
        var deviceKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var enrolled = await host.EnrollAsync(key, device, deviceKey);
        Assert.Equal(HttpStatusCode.OK, enrolled.StatusCode);
        var answer = (await enrolled.Content.ReadFromJsonAsync<EnrollResponse>(AgentProtocol.JsonOptions))!;
        Assert.Equal(mapping, answer.MappingId);
        return new EnrolledDevice(project.Id(), sourceConnection.GetProperty("connection").Id(), destinationConnection.GetProperty("connection").Id(),
            mapping, device, host.AgentClient(answer.Credential!), answer.AgentId, key, deviceKey);
    }

    /// <summary>Enrolls <paramref name="device"/> as an agent would, proving <paramref name="deviceKey"/> at the server's time (or <paramref name="signedAt"/>).</summary>
    public static Task<HttpResponseMessage> EnrollAsync(
        this ServerHost host, string configurationKey, string device, ECDsa deviceKey, string hardwareId = "4C4C4544-0042-3010-8052-B4C04F383232",
        DateTimeOffset? signedAt = null) =>
        host.EnrollAsync(configurationKey, new DeviceFacts { DeviceName = device, OsVersion = "Windows 11", AgentVersion = "test" }, deviceKey, hardwareId, signedAt);

    /// <summary>Enrolls a device with <paramref name="facts"/>, proving <paramref name="deviceKey"/> (a new one when null) at the server's time.</summary>
    public static async Task<HttpResponseMessage> EnrollAsync(
        this ServerHost host, string configurationKey, DeviceFacts facts, ECDsa? deviceKey = null, string hardwareId = "4C4C4544-0042-3010-8052-B4C04F383232",
        DateTimeOffset? signedAt = null)
    {
        using var made = deviceKey is null ? ECDsa.Create(ECCurve.NamedCurves.nistP256) : null;
        return await host.Anonymous.PostAsJsonAsync("/agent/v1/enroll",
            EnrollRequest.Signed(configurationKey, facts, deviceKey ?? made!, hardwareId, signedAt ?? host.Now), AgentProtocol.JsonOptions);
    }

    /// <summary>A client that calls the gateway with an agent's credential.</summary>
    public static HttpClient AgentClient(this ServerHost host, string credential)
    {
        var agent = new HttpClient { BaseAddress = host.BaseAddress };
        agent.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Agent", credential);
        return agent;
    }

    /// <summary>Runs <paramref name="kinds"/> on the device and lets the engine prepare the destination; no poll yet.</summary>
    public static async Task RunAsync(this ServerHost host, EnrolledDevice device, params string[] kinds)
    {
        await host.Client.PostJsonAsync($"/api/v1/projects/{device.ProjectId}/runs", new { kinds, mappingIds = new[] { device.MappingId } });
        await using var scope = host.Scope();
        await scope.ServiceProvider.GetRequiredService<RunEngineService>().TickAsync(CancellationToken.None);
    }

    /// <summary>Runs <paramref name="kinds"/> on the device, lets the engine prepare the destination, and returns the agent's first assignment.</summary>
    public static async Task<JobAssignment> RunAndPollAsync(this ServerHost host, EnrolledDevice device, params string[] kinds)
    {
        await host.RunAsync(device, kinds);
        var response = await device.Agent.PostAsync(new Uri("/agent/v1/poll?wait=0", UriKind.Relative), null);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"The poll answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JobAssignment>(AgentProtocol.JsonOptions))!;
    }

    public static Task<HttpResponseMessage> AskReturnTicketAsync(this HttpClient agent, Guid jobId, ReturnTicketRequest request) =>
        agent.PostAsJsonAsync($"/agent/v1/jobs/{jobId}/return-ticket", request, AgentProtocol.JsonOptions);

    public static async Task<HttpResponseMessage> DownloadPackageAsync(this HttpClient agent, Guid jobId, string purpose, Guid? leaseToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/agent/v1/jobs/{jobId}/package/{purpose}");
        if (leaseToken is { } token)
        {
            request.Headers.Add("X-Rehome-Lease", token.ToString());
        }
        return await agent.SendAsync(request);
    }

    public static async Task<JsonElement> UploadPackageAsync(this HttpClient client, Guid connectionId, byte[] content, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return await (await client.PutAsync(new Uri($"/api/v1/connections/{connectionId}/bulk-enrollment-package", UriKind.Relative), body)).JsonAsync(expected);
    }

    /// <summary>An Entra ID offline destination (its package uploaded separately).</summary>
    public static object EntraDestination() => ApiClient.DestinationConnection("EntraId", "Offline");

    /// <summary>An Active Directory destination joined <paramref name="rejoinMethod"/>.</summary>
    public static object ActiveDirectoryDestination(string rejoinMethod) => ApiClient.DestinationConnection("ActiveDirectory", rejoinMethod);
}
