using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Rehome.Directory;
using Rehome.Directory.ActiveDirectory;
using Rehome.Directory.EntraId;
using Rehome.Directory.OfflineJoin;
using Rehome.Directory.Tests.EntraId;
using Rehome.Protocol;
using Rehome.Server.Directories;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.EndToEnd.Tests.Directories;

/// <summary>
/// The server's Entra ID work through the unchanged Microsoft Graph SDK, against two Graph stand-ins (source
/// and destination tenants): group migration with each group's own result, and the Autopilot hand-over.
/// </summary>
public sealed class EntraIdConnectedTests : IAsyncLifetime
{
    private static readonly string HardwareHash = Convert.ToBase64String([.. Enumerable.Range(0, 128).Select(i => (byte)i)]);
    private FakeGraphServer source = null!;
    private FakeGraphServer destination = null!;
    private ServerHost server = null!;
    private Guid projectId;
    private string configurationKey = "";

    public async Task InitializeAsync()
    {
        source = await FakeGraphServer.StartAsync("Contoso", "contoso.example");
        destination = await FakeGraphServer.StartAsync("Fabrikam", "fabrikam.example");
        var tenants = new Dictionary<string, FakeGraphServer>(StringComparer.OrdinalIgnoreCase) { [source.TenantId] = source, [destination.TenantId] = destination };
        server = await ServerHost.StartLiveAsync(new Dictionary<string, string?>
        {
            ["Rehome:Directories:Mode"] = "Connected",
            ["Rehome:Directories:Connected:AutopilotImportWait"] = "00:00:00",
            ["Rehome:Directories:Connected:AutopilotPollInterval"] = "00:00:00.020",
            ["Rehome:Directories:RetryWindow"] = "00:00:02",
        }, services: s => s.Replace(ServiceDescriptor.Singleton<IDirectoryFactory>(new FakeTenants(tenants))));
        var sourceConnection = await server.Client.PostJsonAsync("/api/v1/connections", new
        {
            name = ApiClient.Unique("contoso"),
            role = "Source",
            kind = "HybridIdentity",
            source = new { entraId = new { tenantId = source.TenantId, clientId = Guid.NewGuid(), clientSecret = "source-secret", enabled = true } },
        });
        configurationKey = sourceConnection.GetProperty("configurationKey").GetString()!;
        var destinationConnection = await server.Client.PostJsonAsync("/api/v1/connections", new
        {
            name = ApiClient.Unique("fabrikam"),
            role = "Destination",
            kind = "EntraId",
            destination = new
            {
                rejoinMethod = "Offline",
                bulkEnrollmentTokenExpiresAt = DateTimeOffset.UtcNow.AddDays(60),
                entraId = new { tenantId = destination.TenantId, clientId = Guid.NewGuid(), clientSecret = "destination-secret", enabled = true },
            },
        });
        await server.Client.UploadPackageAsync(destinationConnection.GetProperty("connection").Id(), "fabrikam provisioning package"u8.ToArray());
        var policy = await server.Client.PostJsonAsync("/api/v1/policies", new
        {
            name = ApiClient.Unique("policy"),
            settings = new
            {
                autopilot = new { register = true, groupTag = "Kiosk" },
                identityMapping = new { groups = new[] { new { source = "SG-Old-Name", destination = "SG-New-Name" } } },
            },
        });
        projectId = (await server.Client.PostJsonAsync("/api/v1/projects", new
        {
            name = ApiClient.Unique("entra"),
            sourceConnectionId = sourceConnection.GetProperty("connection").Id(),
            destinationConnectionId = destinationConnection.GetProperty("connection").Id(),
            policyId = policy.Id(),
        })).Id();
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        await source.DisposeAsync();
        await destination.DisposeAsync();
    }

    private IMigrationDirectory Directory => server.App.Services.GetRequiredService<IMigrationDirectory>();

    private async Task<(Core.Projects.Project, Core.Mappings.Mapping)> MappingAsync(string device, string destinationName)
    {
        var id = (await server.Client.PostJsonAsync($"/api/v1/projects/{projectId}/mappings", new { sourceDevice = device, destinationName })).Id();
        await using var scope = server.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Server.Store.RehomeDbContext>();
        var mapping = db.Mappings.Single(m => m.Id == id);
        return (db.Projects.Single(p => p.Id == projectId), mapping);
    }

    [Fact]
    public async Task Groups_are_resolved_by_name_or_by_the_policys_mapping_and_each_reports_its_own_result()
    {
        var sourceDeviceId = Guid.NewGuid();
        var destinationDeviceId = Guid.NewGuid();
        var sourceDevice = source.AddDevice("CTS-PC1", sourceDeviceId);
        source.AddGroup("SG-Devices", true, sourceDevice);
        source.AddGroup("SG-Old-Name", true, sourceDevice);
        source.AddGroup("SG-Nowhere", true, sourceDevice);
        var destinationDevice = destination.AddDevice("FAB-PC1", destinationDeviceId);
        var devices = destination.AddGroup("SG-Devices");
        var renamed = destination.AddGroup("SG-New-Name");
        var (project, mapping) = await MappingAsync("CTS-PC1", "FAB-PC1");

        var answer = await Directory.RunActionAsync(project, mapping, new DirectoryActionRequest
        {
            LeaseToken = Guid.NewGuid(),
            Action = DirectoryAction.MigrateEntraIdGroups,
            SourceEntraDeviceId = sourceDeviceId.ToString(),
            DestinationEntraDeviceId = destinationDeviceId.ToString(),
        }, CancellationToken.None);

        Assert.True(destination.IsMember(devices, destinationDevice));
        Assert.True(destination.IsMember(renamed, destinationDevice));
        var items = answer.Items.ToDictionary(i => i.Item);
        Assert.Equal(ItemOutcome.Changed, items["SG-Devices"].Outcome);
        Assert.Equal(ItemOutcome.Changed, items["SG-New-Name"].Outcome);
        Assert.Equal(ItemOutcome.Failed, items["SG-Nowhere"].Outcome);
        Assert.Equal(DirectoryActionState.Failed, answer.State);
        Assert.Contains("1 of 3", answer.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Autopilot_imports_with_the_policys_group_tag_and_removes_the_source_record_only_once_imported()
    {
        source.AddAutopilotDevice("SN-42", "Old");
        var (project, mapping) = await MappingAsync("CTS-PC2", "FAB-PC2");
        var request = new DirectoryActionRequest { LeaseToken = Guid.NewGuid(), Action = DirectoryAction.ImportAutopilotDevice, SerialNumber = "SN-42", HardwareHash = HardwareHash };

        var first = await Directory.RunActionAsync(project, mapping, request, CancellationToken.None);
        var sourceDuringImport = source.AutopilotSerialNumbers();
        var answer = first;
        for (var i = 0; i < 20 && answer.State == DirectoryActionState.Pending; i++)
        {
            answer = await Directory.RunActionAsync(project, mapping, request, CancellationToken.None);
        }

        Assert.Equal(DirectoryActionState.Pending, first.State);
        Assert.Contains("SN-42", sourceDuringImport);
        Assert.Equal(DirectoryActionState.Done, answer.State);
        Assert.Equal("Kiosk", destination.Imported("SN-42").GroupTag);
        Assert.Equal(Convert.FromBase64String(HardwareHash), destination.Imported("SN-42").HardwareIdentifier);
        Assert.DoesNotContain("SN-42", source.AutopilotSerialNumbers());
    }

    [Fact]
    public async Task A_device_registered_in_another_tenant_fails_in_words_and_keeps_its_source_record()
    {
        source.AddAutopilotDevice("SN-808");
        destination.SerialNumbersOfOtherTenants.Add("SN-808");
        var (project, mapping) = await MappingAsync("CTS-PC3", "FAB-PC3");
        var request = new DirectoryActionRequest { LeaseToken = Guid.NewGuid(), Action = DirectoryAction.ImportAutopilotDevice, SerialNumber = "SN-808", HardwareHash = HardwareHash };

        var answer = await Directory.RunActionAsync(project, mapping, request, CancellationToken.None);
        for (var i = 0; i < 20 && answer.State == DirectoryActionState.Pending; i++)
        {
            answer = await Directory.RunActionAsync(project, mapping, request, CancellationToken.None);
        }

        Assert.Equal(DirectoryActionState.Failed, answer.State);
        Assert.Contains("another tenant", answer.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("SN-808", source.AutopilotSerialNumbers());
    }

    [Fact]
    public async Task Testing_the_connections_reads_each_tenant_through_graph()
    {
        var connections = await server.Client.GetJsonAsync("/api/v1/connections");

        foreach (var connection in connections.EnumerateArray())
        {
            var report = await server.Client.PostJsonAsync($"/api/v1/connections/{connection.Id()}/test", new { }, HttpStatusCode.OK);
            var entra = report.GetProperty("parts").EnumerateArray().First(p => p.GetProperty("part").GetString() == "Entra ID");
            Assert.True(entra.GetProperty("succeeded").GetBoolean(), entra.ToString());
        }
    }

    [Fact]
    public async Task An_agent_is_told_to_come_back_while_graph_is_down_and_gets_the_reason_once_the_retry_window_is_spent()
    {
        await MappingAsync("CTS-PC4", "FAB-PC4");
        var enrolled = await server.EnrollAsync(configurationKey, new DeviceFacts { DeviceName = "CTS-PC4", OsVersion = "Windows 11", AgentVersion = "test" });
        var credential = (await enrolled.Content.ReadFromJsonAsync<EnrollResponse>(AgentProtocol.JsonOptions))!.Credential;
        using var agent = new HttpClient { BaseAddress = server.BaseAddress };
        agent.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Agent", credential);
        await server.Client.PostJsonAsync($"/api/v1/projects/{projectId}/runs", new { kinds = new[] { "RegisterAutopilot" }, filter = new { search = "CTS-PC4" } });
        var assignment = (await (await agent.PostAsync("/agent/v1/poll?wait=10", null)).Content.ReadFromJsonAsync<JobAssignment>(AgentProtocol.JsonOptions))!;
        destination.Fail("/deviceManagement", 10_000, 503, retryAfterSeconds: 0);
        var request = new DirectoryActionRequest { LeaseToken = assignment.LeaseToken, Action = DirectoryAction.ImportAutopilotDevice, SerialNumber = "SN-503", HardwareHash = HardwareHash };

        var during = await agent.PostAsJsonAsync($"/agent/v1/jobs/{assignment.JobId}/directory-action", request, AgentProtocol.JsonOptions);
        var requestsAfterFirst = destination.Requests().Count;
        var backingOff = await agent.PostAsJsonAsync($"/agent/v1/jobs/{assignment.JobId}/directory-action", request, AgentProtocol.JsonOptions);
        var requestsAfterSecond = destination.Requests().Count;
        // The first back-off is 5 s, longer than the 2 s window: the next try after it gives up.
        await Task.Delay(TimeSpan.FromSeconds(5.5));
        var after = await agent.PostAsJsonAsync($"/agent/v1/jobs/{assignment.JobId}/directory-action", request, AgentProtocol.JsonOptions);
        var answer = (await after.Content.ReadFromJsonAsync<DirectoryActionAnswer>(AgentProtocol.JsonOptions))!;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, during.StatusCode);
        Assert.NotNull(during.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, backingOff.StatusCode);
        Assert.Equal(requestsAfterFirst, requestsAfterSecond);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(DirectoryActionState.Failed, answer.State);
        Assert.Contains("unreachable", answer.Message, StringComparison.Ordinal);
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
