using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Core.Runs;
using Rehome.Server.Gateway;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Gateway;

/// <summary>
/// A poll that goes away (its agent's HTTP timeout ran out under load) after its batch was queued: the job leased for
/// it reaches nobody, so nobody knows its lease token. It goes back to wait for the next poll with the attempt
/// uncounted, instead of waiting for the lease to lapse and then counting an attempt the device never made.
/// </summary>
public abstract class UnheardLeaseSuite(StoreProvider provider) : IAsyncLifetime
{
    private ServerHost host = null!;

    public async Task InitializeAsync() => host = await ServerHost.StartAsync(provider, new()
    {
        ["Rehome:Directories:Mode"] = "Simulated",
        ["Rehome:Gateway:EnrollmentsPerMinute"] = "10000",
    });

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task A_job_leased_for_a_poll_that_went_away_waits_for_the_next_poll_with_the_attempt_uncounted()
    {
        using var device = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"), source: new { domainDnsName = "contoso.example" });
        await host.RunAsync(device, "RejoinDomain");
        var job = await StoredJobAsync(device.MappingId);
        Assert.Equal(JobStatus.WaitingToStart, job.Status);
        var signals = host.App.Services.GetRequiredService<JobSignals>();
        var seen = signals.Generation(device.MappingId);

        // The poll is gone before its batch leases: the batch still leases the job for it.
        using var goneAway = new CancellationTokenSource();
        await goneAway.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            host.App.Services.GetRequiredService<LeaseBatcher>().LeaseAsync(device.MappingId, device.AgentId, goneAway.Token));

        // Giving the lease back signals the mapping, as any job made startable does.
        Assert.True(await signals.WaitAsync(device.MappingId, seen, TimeSpan.FromSeconds(30), new PollWaiter(), CancellationToken.None));
        var givenBack = await StoredJobAsync(device.MappingId);
        Assert.Equal(JobStatus.WaitingToStart, givenBack.Status);
        Assert.Equal(0, givenBack.Attempts);
        Assert.Null(givenBack.LeaseToken);
        Assert.Null(givenBack.StartedAt);

        var assignment = await host.App.Services.GetRequiredService<LeaseBatcher>().LeaseAsync(device.MappingId, device.AgentId, CancellationToken.None);
        Assert.Equal(job.Id, assignment?.JobId);
        Assert.Equal(1, (await StoredJobAsync(device.MappingId)).Attempts);
    }

    private async Task<Job> StoredJobAsync(Guid mappingId)
    {
        await using var scope = host.Scope();
        return await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Jobs.AsNoTracking().SingleAsync(j => j.MappingId == mappingId);
    }
}

public sealed class UnheardLeaseOnSqlite() : UnheardLeaseSuite(StoreProvider.Sqlite);

public sealed class UnheardLeaseOnPostgres() : UnheardLeaseSuite(StoreProvider.PostgreSql);
