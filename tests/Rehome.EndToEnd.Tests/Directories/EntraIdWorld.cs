using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Rehome.Core.Mappings;
using Rehome.Core.Projects;
using Rehome.Core.Runs;
using Rehome.Directory;
using Rehome.Directory.ActiveDirectory;
using Rehome.Directory.EntraId;
using Rehome.Directory.OfflineJoin;
using Rehome.Directory.Tests.EntraId;
using Rehome.Server.Directories;
using Rehome.Server.Directories.Connected;
using Rehome.Server.Runs;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.EndToEnd.Tests.Directories;

/// <summary>
/// A server in Connected mode whose project reaches two Graph stand-ins through the unchanged Microsoft Graph SDK:
/// Contoso as the hybrid source, Fabrikam as the Entra ID destination, with Autopilot registration (group tag
/// Kiosk) and one group pair in the policy. Each Autopilot ask reads the import's status once (no wait).
/// </summary>
public sealed class EntraIdWorld : IAsyncDisposable
{
    /// <summary>
    /// The tests on these stand-ins run one at a time: Graph clients built at once in one process (by servers of tests
    /// running side by side) have been seen to leave every later Autopilot import of the process answered 500.
    /// </summary>
    public const string Collection = "Graph stand-ins";

    private EntraIdWorld(FakeGraphServer source, FakeGraphServer destination, ServerHost server)
    {
        Source = source;
        Destination = destination;
        Server = server;
    }

    public FakeGraphServer Source { get; }

    public FakeGraphServer Destination { get; }

    public ServerHost Server { get; }

    public Guid ProjectId { get; private set; }

    public string ConfigurationKey { get; private set; } = "";

    public IMigrationDirectory Directory => Server.App.Services.GetRequiredService<IMigrationDirectory>();

    /// <summary>The Autopilot imports Fabrikam's Graph has been asked to start.</summary>
    public int ImportsStarted => Destination.Requests().Count(r => r.StartsWith("POST /deviceManagement/importedWindowsAutopilotDeviceIdentities", StringComparison.Ordinal));

    /// <summary>A live server (real clock, engine ticking) on SQLite.</summary>
    public static Task<EntraIdWorld> StartLiveAsync(Dictionary<string, string?>? settings = null) =>
        StartAsync((all, services) => ServerHost.StartLiveAsync(all, services: services), settings);

    /// <summary>A server on <paramref name="provider"/> whose engine the test drives (no ticks of its own).</summary>
    public static Task<EntraIdWorld> StartAsync(StoreProvider provider) =>
        StartAsync((all, services) => ServerHost.StartAsync(provider, all, services), null);

    private static async Task<EntraIdWorld> StartAsync(
        Func<Dictionary<string, string?>, Action<IServiceCollection>, Task<ServerHost>> start, Dictionary<string, string?>? settings)
    {
        var source = await FakeGraphServer.StartAsync("Contoso", "contoso.example");
        var destination = await FakeGraphServer.StartAsync("Fabrikam", "fabrikam.example");
        var tenants = new Dictionary<string, FakeGraphServer>(StringComparer.OrdinalIgnoreCase) { [source.TenantId] = source, [destination.TenantId] = destination };
        var all = new Dictionary<string, string?>
        {
            ["Rehome:Directories:Mode"] = "Connected",
            ["Rehome:Directories:Connected:AutopilotImportWait"] = "00:00:00",
            ["Rehome:Directories:Connected:AutopilotPollInterval"] = "00:00:00.020",
        };
        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }
        var server = await start(all, s => s.Replace(ServiceDescriptor.Singleton<IDirectoryFactory>(new FakeTenants(tenants))));
        var world = new EntraIdWorld(source, destination, server);
        await world.ProjectAsync();
        return world;
    }

    private async Task ProjectAsync()
    {
        var sourceConnection = await Server.Client.PostJsonAsync("/api/v1/connections", new
        {
            name = ApiClient.Unique("contoso"),
            role = "Source",
            kind = "HybridIdentity",
            source = new { entraId = new { tenantId = Source.TenantId, clientId = Guid.NewGuid(), clientSecret = "source-secret", enabled = true } },
        });
        ConfigurationKey = sourceConnection.GetProperty("configurationKey").GetString()!;
        var destinationConnection = await Server.Client.PostJsonAsync("/api/v1/connections", new
        {
            name = ApiClient.Unique("fabrikam"),
            role = "Destination",
            kind = "EntraId",
            destination = new
            {
                rejoinMethod = "Offline",
                bulkEnrollmentTokenExpiresAt = DateTimeOffset.UtcNow.AddDays(60),
                entraId = new { tenantId = Destination.TenantId, clientId = Guid.NewGuid(), clientSecret = "destination-secret", enabled = true },
            },
        });
        await Server.Client.UploadPackageAsync(destinationConnection.GetProperty("connection").Id(), "fabrikam provisioning package"u8.ToArray());
        var policy = await Server.Client.PostJsonAsync("/api/v1/policies", new
        {
            name = ApiClient.Unique("policy"),
            settings = new
            {
                autopilot = new { register = true, groupTag = "Kiosk" },
                identityMapping = new { groups = new[] { new { source = "SG-Old-Name", destination = "SG-New-Name" } } },
            },
        });
        ProjectId = (await Server.Client.PostJsonAsync("/api/v1/projects", new
        {
            name = ApiClient.Unique("entra"),
            sourceConnectionId = sourceConnection.GetProperty("connection").Id(),
            destinationConnectionId = destinationConnection.GetProperty("connection").Id(),
            policyId = policy.Id(),
        })).Id();
    }

    public async Task<(Project Project, Mapping Mapping)> MappingAsync(string device, string destinationName)
    {
        var id = (await Server.Client.PostJsonAsync($"/api/v1/projects/{ProjectId}/mappings", new { sourceDevice = device, destinationName })).Id();
        await using var scope = Server.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        return (await db.Projects.SingleAsync(p => p.Id == ProjectId), await db.Mappings.SingleAsync(m => m.Id == id));
    }

    /// <summary>
    /// A run of the mapping's Register Windows Autopilot job, leased to an agent as its poll would lease it: the job an
    /// agent's Autopilot asks are made for (its id and lease token).
    /// </summary>
    public async Task<Job> AutopilotJobAsync(Mapping mapping)
    {
        await Server.Client.PostJsonAsync($"/api/v1/projects/{ProjectId}/runs",
            new { kinds = new[] { "RegisterAutopilot" }, mappingIds = new[] { mapping.Id } });
        await using var scope = Server.Scope();
        var job = await scope.ServiceProvider.GetRequiredService<JobTransitions>().LeaseNextAsync(mapping.Id, Guid.NewGuid(), TimeSpan.FromHours(1), CancellationToken.None);
        Assert.NotNull(job);
        Assert.Equal(JobKind.RegisterAutopilot, job.Kind);
        return job;
    }

    /// <summary>The job's lease lapses (its agent fell silent) and the job is leased again: the same job under a new token.</summary>
    /// <remarks>For a server whose clock the test moves (<see cref="StartAsync(StoreProvider)"/>).</remarks>
    public async Task<Job> LapseAndLeaseAgainAsync(Job job)
    {
        Server.Time.Advance(TimeSpan.FromHours(2));
        await using var scope = Server.Scope();
        var transitions = scope.ServiceProvider.GetRequiredService<JobTransitions>();
        Assert.Equal(1, await transitions.ExpireLeasesAsync(maxAttempts: 5, CancellationToken.None));
        var again = await transitions.LeaseNextAsync(job.MappingId, Guid.NewGuid(), TimeSpan.FromHours(1), CancellationToken.None);
        Assert.Equal(job.Id, again?.Id);
        return again!;
    }

    /// <summary>The job ends as its agent reports it (<paramref name="status"/>), under the lease it holds.</summary>
    public async Task EndAsync(Job job, JobStatus status)
    {
        await using var scope = Server.Scope();
        Assert.True(await scope.ServiceProvider.GetRequiredService<JobTransitions>().CompleteAsync(job.Id, job.LeaseOwner!.Value, job.LeaseToken!.Value,
            new JobCompletion(status, new JobProgress(1, 1, 0, 1), "AutopilotImportFailed", "The agent gave up waiting."), CancellationToken.None));
    }

    /// <summary>The job's row as the store holds it now.</summary>
    public async Task<Job> JobAsync(Guid jobId)
    {
        await using var scope = Server.Scope();
        return await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId);
    }

    /// <summary>
    /// The connected directory as another replica, or this server after a restart, has it: the same store and
    /// tenants, nothing of this one's memory.
    /// </summary>
    public IMigrationDirectory AnotherReplicasDirectory() => ActivatorUtilities.CreateInstance<ConnectedDirectory>(Server.App.Services);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Source.DisposeAsync();
        await Destination.DisposeAsync();
    }

    /// <summary>The real clients, with each tenant's Graph calls sent to its stand-in and a test token.</summary>
    private sealed class FakeTenants(IReadOnlyDictionary<string, FakeGraphServer> tenants) : IDirectoryFactory
    {
        private readonly DirectoryFactory real = new();

        public IActiveDirectoryDirectory CreateActiveDirectory(ActiveDirectoryConnectionOptions options) => real.CreateActiveDirectory(options);

        public IEntraIdDirectory CreateEntraId(EntraIdConnectionOptions options) =>
            new GraphEntraIdDirectory(options with { GraphBaseUrl = tenants[options.TenantId].BaseUrl, DefaultRetryAfter = TimeSpan.FromMilliseconds(50) }, new TestTokenCredential());

        public IOfflineJoinProvisioner CreateOfflineJoinProvisioner(IActiveDirectoryDirectory destination, DirectoryCredential credential, string? domainController) =>
            real.CreateOfflineJoinProvisioner(destination, credential, domainController);
    }
}
