using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Rehome.Core.Runs;
using Rehome.Protocol;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Gateway;

/// <summary>
/// A poll whose lease batch failed after it leased the job (the assignment could not be read: the store timed out
/// under load) leaves the job leased to an agent that never heard of it. No signal comes for it and the recheck looks
/// only for jobs waiting to start: unless the agent's next poll looks in the store again, the lease lapses and counts
/// an attempt the device never made. On SQLite and PostgreSQL.
/// </summary>
public abstract class FailedLeaseSuite(StoreProvider provider) : IAsyncLifetime
{
    private readonly FailingAssignment failing = new();
    private ServerHost host = null!;

    public async Task InitializeAsync() => host = await ServerHost.StartAsync(provider, SimulatedDirectoryServer.Settings(),
        services => services.AddStoreInterceptor(provider, _ => failing));

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task A_poll_whose_lease_batch_failed_after_the_lease_gets_the_job_again_at_its_next_poll()
    {
        using var device = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"), source: new { domainDnsName = "contoso.example" });
        await host.RunAsync(device, "RejoinDomain");

        failing.Arm();
        using (var failed = await device.Agent.PostAsync(new Uri("/agent/v1/poll?wait=0", UriKind.Relative), null))
        {
            Assert.True(failing.Failed);
            Assert.False(failed.IsSuccessStatusCode);
        }
        var leased = await host.StoredJobOfAsync(device.MappingId);
        Assert.Equal((JobStatus.InProgress, device.AgentId), (leased.Status, leased.LeaseOwner));

        using var next = await device.Agent.PostAsync(new Uri("/agent/v1/poll?wait=0", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        var assignment = await next.Content.ReadFromJsonAsync<JobAssignment>(AgentProtocol.JsonOptions);
        Assert.Equal(leased.Id, assignment?.JobId);
        // Sent again under a new token, the one the store now holds; the attempt the device never made is not counted.
        var resent = await host.StoredJobOfAsync(device.MappingId);
        Assert.Equal((resent.LeaseToken, 1), (assignment!.LeaseToken, resent.Attempts));
        Assert.NotEqual(leased.LeaseToken, resent.LeaseToken);
    }


    /// <summary>Once armed, fails the next read of leased jobs' assignments (mappings with their connections and policy), once.</summary>
    private sealed class FailingAssignment : DbCommandInterceptor
    {
        private volatile bool armed;
        private volatile bool failed;

        public bool Failed => failed;

        public void Arm() => armed = true;

        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            if (armed && IsAssignmentRead(command.CommandText))
            {
                armed = false;
                failed = true;
                throw new TimeoutException("The store did not answer (the test's).");
            }
            return ValueTask.FromResult(result);
        }

        private static bool IsAssignmentRead(string sql) =>
            sql.Contains("mappings", StringComparison.Ordinal)
            && sql.Contains("policies", StringComparison.Ordinal);
    }
}

public sealed class FailedLeaseOnSqlite() : FailedLeaseSuite(StoreProvider.Sqlite);

public sealed class FailedLeaseOnPostgres() : FailedLeaseSuite(StoreProvider.PostgreSql);
