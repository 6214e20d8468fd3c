using System.Net;
using System.Net.Http.Json;
using Rehome.Protocol;
using Rehome.Server.Tests.Api;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Gateway;

/// <summary>A running job's progress reaches the mapping that shows it, and no other; on SQLite and PostgreSQL.</summary>
public abstract class ProgressShownSuite(ServerHost host)
{
    [Fact]
    public async Task Progress_shows_on_its_own_mapping_and_on_no_other()
    {
        using var device = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"), source: new { domainDnsName = "contoso.example" });
        using var other = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"), source: new { domainDnsName = "contoso.example" });
        var job = await host.RunAndPollAsync(device, "RejoinDomain");
        var otherJob = await host.RunAndPollAsync(other, "RejoinDomain");

        var response = await device.Agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/progress",
            new ProgressReport { LeaseToken = job.LeaseToken, Step = "PrepareJoin", ItemsDone = 3, ItemsTotal = 10 }, AgentProtocol.JsonOptions);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var mapping = await host.Client.GetJsonAsync($"/api/v1/mappings/{device.MappingId}");
        Assert.Equal((3, 10), (mapping.GetProperty("itemsDone").GetInt32(), mapping.GetProperty("itemsTotal").GetInt32()));
        var untouched = await host.Client.GetJsonAsync($"/api/v1/mappings/{other.MappingId}");
        Assert.Equal((0, 0), (untouched.GetProperty("itemsDone").GetInt32(), untouched.GetProperty("itemsTotal").GetInt32()));
        Assert.NotEqual(job.JobId, otherJob.JobId);
    }
}

public sealed class ProgressShownOnSqlite(BadInputSqliteServer server) : ProgressShownSuite(server.Host), IClassFixture<BadInputSqliteServer>;

public sealed class ProgressShownOnPostgres(BadInputPostgresServer server) : ProgressShownSuite(server.Host), IClassFixture<BadInputPostgresServer>;
