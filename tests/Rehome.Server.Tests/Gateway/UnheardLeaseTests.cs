using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Core.Runs;
using Rehome.Protocol;
using Rehome.Server.Gateway;
using Rehome.Server.Runs;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Gateway;

/// <summary>
/// A poll that goes away (its agent's HTTP timeout ran out under load) after its batch was queued: the job leased for
/// it reaches nobody, so nobody knows its lease token. It goes back to wait for the next poll with the attempt
/// uncounted, instead of waiting for the lease to lapse and then counting an attempt the device never made. A poll
/// answered into a connection its agent had dropped is only known when the agent polls again: the job goes to it again.
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
        var job = await host.StoredJobOfAsync(device.MappingId);
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
        var givenBack = await host.StoredJobOfAsync(device.MappingId);
        Assert.Equal(JobStatus.WaitingToStart, givenBack.Status);
        Assert.Equal(0, givenBack.Attempts);
        Assert.Null(givenBack.LeaseToken);
        Assert.Null(givenBack.StartedAt);

        var assignment = await host.App.Services.GetRequiredService<LeaseBatcher>().LeaseAsync(device.MappingId, device.AgentId, CancellationToken.None);
        Assert.Equal(job.Id, assignment?.JobId);
        Assert.Equal(1, (await host.StoredJobOfAsync(device.MappingId)).Attempts);
    }

    [Fact]
    public async Task A_job_whose_answer_never_arrived_goes_again_to_its_agents_next_poll_under_a_new_token_extended_once()
    {
        using var device = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"), source: new { domainDnsName = "contoso.example" });
        using var other = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"), source: new { domainDnsName = "contoso.example" });
        await host.RunAsync(device, "RejoinDomain");
        var leases = host.App.Services.GetRequiredService<LeaseBatcher>();

        // The poll was answered, but the answer went to a connection the agent had dropped: the agent polls again.
        var first = await leases.LeaseAsync(device.MappingId, device.AgentId, CancellationToken.None);
        Assert.NotNull(first);
        var leased = await host.StoredJobOfAsync(device.MappingId);

        // Another agent never gets a job leased to someone else.
        Assert.Null(await leases.LeaseAsync(device.MappingId, other.AgentId, CancellationToken.None));

        host.Time.Advance(TimeSpan.FromSeconds(10));
        var again = await leases.LeaseAsync(device.MappingId, device.AgentId, CancellationToken.None);
        Assert.Equal(first.JobId, again?.JobId);
        Assert.NotEqual(first.LeaseToken, again!.LeaseToken);
        Assert.Equal(1, again.Attempt);
        var stored = await host.StoredJobOfAsync(device.MappingId);
        Assert.Equal((JobStatus.InProgress, 1, again.LeaseToken), (stored.Status, stored.Attempts, stored.LeaseToken));
        Assert.Equal(leased.StartedAt, stored.StartedAt);
        // The first resend gives the device a whole lease from now to make its first report.
        Assert.Equal(leased.LeaseExpiresAt + TimeSpan.FromSeconds(10), stored.LeaseExpiresAt);

        // A later resend keeps the expiry: a device that fails before its first report every time still sees it lapse.
        host.Time.Advance(TimeSpan.FromSeconds(10));
        var third = await leases.LeaseAsync(device.MappingId, device.AgentId, CancellationToken.None);
        Assert.Equal(first.JobId, third?.JobId);
        Assert.NotEqual(again.LeaseToken, third!.LeaseToken);
        var resentTwice = await host.StoredJobOfAsync(device.MappingId);
        Assert.Equal((JobStatus.InProgress, 1, third.LeaseToken), (resentTwice.Status, resentTwice.Attempts, resentTwice.LeaseToken));
        Assert.Equal(stored.LeaseExpiresAt, resentTwice.LeaseExpiresAt);

        // The lost answer's lease cannot be given back any more (its poll's give-back may land after the job went again).
        await using (var scope = host.Scope())
        {
            Assert.False(await scope.ServiceProvider.GetRequiredService<JobTransitions>()
                .GiveBackUnheardLeaseAsync(first.JobId, device.AgentId, first.LeaseToken, CancellationToken.None));
        }
        Assert.Equal((JobStatus.InProgress, third.LeaseToken), ((await host.StoredJobOfAsync(device.MappingId)).Status, (await host.StoredJobOfAsync(device.MappingId)).LeaseToken));

        // Once the lease has run out it is not sent again: it lapses and its attempt counts.
        host.Time.Advance(resentTwice.LeaseExpiresAt!.Value - host.Time.GetUtcNow() + TimeSpan.FromSeconds(1));
        Assert.Null(await leases.LeaseAsync(device.MappingId, device.AgentId, CancellationToken.None));
    }

    [Fact]
    public async Task An_agents_poll_saying_its_previous_one_went_unanswered_gets_its_job_again_with_a_whole_lease()
    {
        using var device = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"), source: new { domainDnsName = "contoso.example" });
        await host.RunAsync(device, "RejoinDomain");
        async Task<JobAssignment> PollAsync(string query)
        {
            using var response = await device.Agent.PostAsync(new Uri("/agent/v1/poll?" + query, UriKind.Relative), null);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<JobAssignment>(AgentProtocol.JsonOptions))!;
        }
        var first = await PollAsync("wait=0");
        var lease = TimeSpan.FromSeconds(first.LeaseSeconds);
        await PollAsync("wait=0");

        host.Time.Advance(lease - TimeSpan.FromSeconds(5));
        var again = await PollAsync("wait=0&unanswered=true");

        Assert.Equal(first.JobId, again.JobId);
        var stored = await host.StoredJobOfAsync(device.MappingId);
        Assert.Equal((again.LeaseToken, host.Time.GetUtcNow() + lease), (stored.LeaseToken!.Value, stored.LeaseExpiresAt));

        // Saying false is not saying so: the expiry stays.
        host.Time.Advance(TimeSpan.FromSeconds(5));
        var kept = await PollAsync("wait=0&unanswered=False");
        var unchanged = await host.StoredJobOfAsync(device.MappingId);
        Assert.Equal((kept.LeaseToken, stored.LeaseExpiresAt), (unchanged.LeaseToken!.Value, unchanged.LeaseExpiresAt));
    }

    [Fact]
    public async Task A_job_sent_again_to_a_poll_whose_previous_one_went_unanswered_gets_a_whole_lease_each_time()
    {
        using var device = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"), source: new { domainDnsName = "contoso.example" });
        await host.RunAsync(device, "RejoinDomain");
        var leases = host.App.Services.GetRequiredService<LeaseBatcher>();
        var first = await leases.LeaseAsync(device.MappingId, device.AgentId, CancellationToken.None);
        var leased = await host.StoredJobOfAsync(device.MappingId);
        var lease = leased.LeaseExpiresAt!.Value - leased.StartedAt!.Value;

        // Answers lost on the way, again and again (a device too slow to read them in time): each poll says so.
        Guid? token = first!.LeaseToken;
        var bound = lease * JobTransitions.UnansweredLeasesAtMost;
        while (host.Time.GetUtcNow() + lease - TimeSpan.FromSeconds(5) - leased.StartedAt!.Value < bound)
        {
            host.Time.Advance(lease - TimeSpan.FromSeconds(5));
            var again = await leases.LeaseAsync(device.MappingId, device.AgentId, CancellationToken.None, previousPollUnanswered: true);
            Assert.Equal(first.JobId, again?.JobId);
            Assert.NotEqual(token, again!.LeaseToken);
            token = again.LeaseToken;
            var stored = await host.StoredJobOfAsync(device.MappingId);
            Assert.Equal((JobStatus.InProgress, 1), (stored.Status, stored.Attempts));
            Assert.Equal(host.Time.GetUtcNow() + lease, stored.LeaseExpiresAt);
        }

        // Only for so long: an answer that never gets through ends in a lapse, and the job's attempts end it.
        host.Time.Advance(lease - TimeSpan.FromSeconds(5));
        var late = await leases.LeaseAsync(device.MappingId, device.AgentId, CancellationToken.None, previousPollUnanswered: true);
        var bounded = await host.StoredJobOfAsync(device.MappingId);
        Assert.Equal(late!.LeaseToken, bounded.LeaseToken);
        Assert.Equal(host.Time.GetUtcNow() + TimeSpan.FromSeconds(5), bounded.LeaseExpiresAt);
    }

}

public sealed class UnheardLeaseOnSqlite() : UnheardLeaseSuite(StoreProvider.Sqlite);

public sealed class UnheardLeaseOnPostgres() : UnheardLeaseSuite(StoreProvider.PostgreSql);
