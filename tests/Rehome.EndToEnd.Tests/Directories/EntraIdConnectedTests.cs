using System.Net;
using System.Net.Http.Json;
using Rehome.Protocol;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.EndToEnd.Tests.Directories;

/// <summary>
/// The server's Entra ID work through the unchanged Microsoft Graph SDK, against two Graph stand-ins (source
/// and destination tenants): group migration with each group's own result, and the Autopilot hand-over.
/// </summary>
[Collection(EntraIdWorld.Collection)]
public sealed class EntraIdConnectedTests : IAsyncLifetime
{
    private static readonly string HardwareHash = Convert.ToBase64String([.. Enumerable.Range(0, 128).Select(i => (byte)i)]);
    private EntraIdWorld world = null!;

    public async Task InitializeAsync() =>
        world = await EntraIdWorld.StartLiveAsync(new Dictionary<string, string?> { ["Rehome:Directories:RetryWindow"] = "00:00:02" });

    public async Task DisposeAsync() => await world.DisposeAsync();

    [Fact]
    public async Task Groups_are_resolved_by_name_or_by_the_policys_mapping_and_each_reports_its_own_result()
    {
        var sourceDeviceId = Guid.NewGuid();
        var destinationDeviceId = Guid.NewGuid();
        var sourceDevice = world.Source.AddDevice("CTS-PC1", sourceDeviceId);
        world.Source.AddGroup("SG-Devices", true, sourceDevice);
        world.Source.AddGroup("SG-Old-Name", true, sourceDevice);
        world.Source.AddGroup("SG-Nowhere", true, sourceDevice);
        var destinationDevice = world.Destination.AddDevice("FAB-PC1", destinationDeviceId);
        var devices = world.Destination.AddGroup("SG-Devices");
        var renamed = world.Destination.AddGroup("SG-New-Name");
        var (project, mapping) = await world.MappingAsync("CTS-PC1", "FAB-PC1");

        // Group migration keeps nothing between asks: no job of the store needed.
        var answer = await world.Directory.RunActionAsync(Guid.NewGuid(), project, mapping, new DirectoryActionRequest
        {
            LeaseToken = Guid.NewGuid(),
            Action = DirectoryAction.MigrateEntraIdGroups,
            SourceEntraDeviceId = sourceDeviceId.ToString(),
            DestinationEntraDeviceId = destinationDeviceId.ToString(),
        }, CancellationToken.None);

        Assert.True(world.Destination.IsMember(devices, destinationDevice));
        Assert.True(world.Destination.IsMember(renamed, destinationDevice));
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
        world.Source.AddAutopilotDevice("SN-42", "Old");
        var (project, mapping) = await world.MappingAsync("CTS-PC2", "FAB-PC2");
        var job = await world.AutopilotJobAsync(mapping);
        var request = new DirectoryActionRequest { LeaseToken = job.LeaseToken!.Value, Action = DirectoryAction.ImportAutopilotDevice, SerialNumber = "SN-42", HardwareHash = HardwareHash };

        var first = await world.Directory.RunActionAsync(job.Id, project, mapping, request, CancellationToken.None);
        var sourceDuringImport = world.Source.AutopilotSerialNumbers();
        var answer = first;
        for (var i = 0; i < 20 && answer.State == DirectoryActionState.Pending; i++)
        {
            answer = await world.Directory.RunActionAsync(job.Id, project, mapping, request, CancellationToken.None);
        }

        Assert.Equal(DirectoryActionState.Pending, first.State);
        Assert.Contains("SN-42", sourceDuringImport);
        Assert.Equal(DirectoryActionState.Done, answer.State);
        Assert.Equal("Kiosk", world.Destination.Imported("SN-42").GroupTag);
        Assert.Equal(Convert.FromBase64String(HardwareHash), world.Destination.Imported("SN-42").HardwareIdentifier);
        Assert.DoesNotContain("SN-42", world.Source.AutopilotSerialNumbers());
    }

    [Fact]
    public async Task A_device_registered_in_another_tenant_fails_in_words_and_keeps_its_source_record()
    {
        world.Source.AddAutopilotDevice("SN-808");
        world.Destination.SerialNumbersOfOtherTenants.Add("SN-808");
        var (project, mapping) = await world.MappingAsync("CTS-PC3", "FAB-PC3");
        var job = await world.AutopilotJobAsync(mapping);
        var request = new DirectoryActionRequest { LeaseToken = job.LeaseToken!.Value, Action = DirectoryAction.ImportAutopilotDevice, SerialNumber = "SN-808", HardwareHash = HardwareHash };

        var answer = await world.Directory.RunActionAsync(job.Id, project, mapping, request, CancellationToken.None);
        for (var i = 0; i < 20 && answer.State == DirectoryActionState.Pending; i++)
        {
            answer = await world.Directory.RunActionAsync(job.Id, project, mapping, request, CancellationToken.None);
        }

        Assert.Equal(DirectoryActionState.Failed, answer.State);
        Assert.Contains("another tenant", answer.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("SN-808", world.Source.AutopilotSerialNumbers());
    }

    [Fact]
    public async Task Testing_the_connections_reads_each_tenant_through_graph()
    {
        var connections = await world.Server.Client.GetJsonAsync("/api/v1/connections");

        foreach (var connection in connections.EnumerateArray())
        {
            var report = await world.Server.Client.PostJsonAsync($"/api/v1/connections/{connection.Id()}/test", new { }, HttpStatusCode.OK);
            var entra = report.GetProperty("parts").EnumerateArray().First(p => p.GetProperty("part").GetString() == "Entra ID");
            Assert.True(entra.GetProperty("succeeded").GetBoolean(), entra.ToString());
        }
    }

    [Fact]
    public async Task An_agent_is_told_to_come_back_while_graph_is_down_and_gets_the_reason_once_the_retry_window_is_spent()
    {
        await world.MappingAsync("CTS-PC4", "FAB-PC4");
        var enrolled = await world.Server.EnrollAsync(world.ConfigurationKey, new DeviceFacts { DeviceName = "CTS-PC4", OsVersion = "Windows 11", AgentVersion = "test" });
        var credential = (await enrolled.Content.ReadFromJsonAsync<EnrollResponse>(AgentProtocol.JsonOptions))!.Credential;
        using var agent = new HttpClient { BaseAddress = world.Server.BaseAddress };
        agent.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Agent", credential);
        await world.Server.Client.PostJsonAsync($"/api/v1/projects/{world.ProjectId}/runs", new { kinds = new[] { "RegisterAutopilot" }, filter = new { search = "CTS-PC4" } });
        var assignment = (await (await agent.PostAsync("/agent/v1/poll?wait=10", null)).Content.ReadFromJsonAsync<JobAssignment>(AgentProtocol.JsonOptions))!;
        world.Destination.Fail("/deviceManagement", 10_000, 503, retryAfterSeconds: 0);
        var request = new DirectoryActionRequest { LeaseToken = assignment.LeaseToken, Action = DirectoryAction.ImportAutopilotDevice, SerialNumber = "SN-503", HardwareHash = HardwareHash };

        var during = await agent.PostAsJsonAsync($"/agent/v1/jobs/{assignment.JobId}/directory-action", request, AgentProtocol.JsonOptions);
        var requestsAfterFirst = world.Destination.Requests().Count;
        var backingOff = await agent.PostAsJsonAsync($"/agent/v1/jobs/{assignment.JobId}/directory-action", request, AgentProtocol.JsonOptions);
        var requestsAfterSecond = world.Destination.Requests().Count;
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
}
