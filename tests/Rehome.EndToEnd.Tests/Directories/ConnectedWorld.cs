using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Core.Mappings;
using Rehome.Core.Projects;
using Rehome.Directory.Tests.ActiveDirectory;
using Rehome.Protocol;
using Rehome.Server.Directories;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.EndToEnd.Tests.Directories;

/// <summary>
/// A live server in Connected mode whose project reaches the Samba pair: SRC.TEST as the source domain,
/// DST.TEST as the offline-join destination (target OU Workstations), with the SRC→DST domain mapping.
/// </summary>
public sealed class ConnectedWorld : IAsyncDisposable
{
    public static readonly SambaDomain Source = SambaDomains.Source;
    public static readonly SambaDomain Destination = SambaDomains.Destination;

    private ConnectedWorld(ServerHost server) => Server = server;

    public ServerHost Server { get; }

    public HttpClient Api => Server.Client;

    public Guid SourceConnectionId { get; private set; }

    public Guid DestinationConnectionId { get; private set; }

    public Guid ProjectId { get; private set; }

    public string ConfigurationKey { get; private set; } = "";

    public IMigrationDirectory Directory => Server.App.Services.GetRequiredService<IMigrationDirectory>();

    public static Dictionary<string, string?> Settings(string? retryWindow = null) => new()
    {
        ["Rehome:Directories:Mode"] = "Connected",
        ["Rehome:Directories:Connected:TrustedCertificatesDirectory"] = SambaDomains.CertificateAuthorityDirectory,
        // The start script's `net` for both domains (each DC's own resolves only its domain).
        ["Rehome:Directories:Connected:NetCommand"] = Environment.GetEnvironmentVariable("REHOME_TEST_SAMBA_NET"),
        ["Rehome:Directories:RetryWindow"] = retryWindow ?? "00:30:00",
    };

    /// <param name="destinationController">The destination DC the connection names (an address where nothing answers, to rehearse an outage).</param>
    /// <param name="retryWindow">How long an unreachable directory is retried.</param>
    /// <param name="rejoinMethod">How the destination is joined: Offline (djoin data) or Online (a one-time password).</param>
    public static async Task<ConnectedWorld> StartAsync(string? destinationController = null, string? retryWindow = null, string rejoinMethod = "Offline")
    {
        var world = new ConnectedWorld(await ServerHost.StartLiveAsync(Settings(retryWindow)));
        var source = await world.Api.PostJsonAsync("/api/v1/connections", SourceConnection(ApiClient.Unique("src")));
        world.SourceConnectionId = source.GetProperty("connection").Id();
        world.ConfigurationKey = source.GetProperty("configurationKey").GetString()!;
        world.DestinationConnectionId = (await world.Api.PostJsonAsync("/api/v1/connections",
            DestinationConnection(ApiClient.Unique("dst"), destinationController ?? Destination.Address, rejoinMethod: rejoinMethod))).GetProperty("connection").Id();
        var policy = await world.Api.PostJsonAsync("/api/v1/policies", new
        {
            name = ApiClient.Unique("policy"),
            settings = new { identityMapping = new { upnPrefixAutoMapping = true, domains = new[] { new { source = Source.NetBiosName, destination = Destination.NetBiosName } } } },
        });
        world.ProjectId = (await world.Api.PostJsonAsync("/api/v1/projects", new
        {
            name = ApiClient.Unique("samba"),
            sourceConnectionId = world.SourceConnectionId,
            destinationConnectionId = world.DestinationConnectionId,
            policyId = policy.Id(),
        })).Id();
        return world;
    }

    public static object SourceConnection(string name, string? password = null) => new
    {
        name,
        role = "Source",
        kind = "ActiveDirectory",
        source = new
        {
            domainDnsName = Source.DnsName,
            domainController = Source.Address,
            serviceAccountName = $"Administrator@{Source.DnsName}",
            serviceAccountPassword = password ?? SambaDomains.Password,
        },
    };

    public static object DestinationConnection(string name, string controller, string? password = null, string rejoinMethod = "Offline") => new
    {
        name,
        role = "Destination",
        kind = "ActiveDirectory",
        destination = new
        {
            domainDnsName = Destination.DnsName,
            domainController = controller,
            targetOu = Destination.Workstations,
            rejoinMethod,
            serviceAccountName = $"Administrator@{Destination.DnsName}",
            serviceAccountPassword = password ?? SambaDomains.Password,
        },
    };

    public async Task<Guid> AddMappingAsync(string sourceDevice, string destinationName, string? destinationOu = null) =>
        (await Api.PostJsonAsync($"/api/v1/projects/{ProjectId}/mappings", new { sourceDevice, destinationName, destinationOu })).Id();

    public async Task<Guid> StartRunAsync(IEnumerable<Guid> mappings, params string[] kinds)
    {
        var answer = await Api.PostJsonAsync($"/api/v1/projects/{ProjectId}/runs", new { kinds, mappingIds = mappings.ToArray() });
        return answer.GetProperty("run").Id();
    }

    public async Task<JsonElement> JobAsync(Guid runId, Guid mappingId) =>
        (await Api.GetJsonAsync($"/api/v1/runs/{runId}/jobs?pageSize=100")).GetProperty("items").EnumerateArray()
            .Single(j => j.GetProperty("mappingId").GetGuid() == mappingId);

    public async Task<JsonElement> WaitForJobAsync(Guid runId, Guid mappingId, Func<string, bool> status, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var job = await JobAsync(runId, mappingId);
            if (status(job.GetProperty("status").GetString()!))
            {
                return job;
            }
            if (DateTime.UtcNow > deadline)
            {
                // What the server said meanwhile is what explains a job that did not move.
                throw new TimeoutException($"Job of mapping {mappingId} is still {job.GetProperty("status")}: {job}\n"
                    + string.Join("\n", Server.Logs.Lines.Where(l => !l.Contains("Microsoft.AspNetCore", StringComparison.Ordinal)).TakeLast(15)));
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Enrolls an agent for a device (as the real agent does over HTTP) and returns its client.</summary>
    public async Task<HttpClient> EnrollAsync(string device, IReadOnlyList<string>? profileSids = null, long? freeDisk = 64L << 30)
    {
        var facts = new DeviceFacts
        {
            DeviceName = device,
            OsVersion = "Windows 11",
            AgentVersion = "test",
            JoinType = DeviceJoinType.ActiveDirectory,
            DomainName = Source.DnsName,
            ProfileSids = profileSids ?? [],
            FreeDiskSpaceBytes = freeDisk,
        };
        var response = await Server.EnrollAsync(ConfigurationKey, facts);
        response.EnsureSuccessStatusCode();
        var enrolled = (await response.Content.ReadFromJsonAsync<EnrollResponse>(AgentProtocol.JsonOptions))!;
        var client = new HttpClient { BaseAddress = Server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Agent", enrolled.Credential);
        return client;
    }

    public async Task<(Project Project, Mapping Mapping)> LoadAsync(Guid mappingId)
    {
        await using var scope = Server.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var mapping = await db.Mappings.AsNoTracking().FirstAsync(m => m.Id == mappingId);
        return (await db.Projects.AsNoTracking().FirstAsync(p => p.Id == mapping.ProjectId), mapping);
    }

    public async Task<Project> ProjectAsync()
    {
        await using var scope = Server.App.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Projects.AsNoTracking().FirstAsync(p => p.Id == ProjectId);
    }

    public async Task<string?> StoredPayloadAsync(Guid jobId)
    {
        await using var scope = Server.App.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Jobs.AsNoTracking()
            .Where(j => j.Id == jobId).Select(j => j.DestinationPayloadProtected).FirstAsync();
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
