using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Rehome.Protocol;
using Rehome.Server.Api;
using Rehome.Server.Directories;
using Rehome.Server.Gateway;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Gateway;

/// <summary>
/// Agents get a share of the store, not all of it: thousands of devices enrolling at once (a 2,000-device run after a
/// restart) once took every pooled connection, and an administrator's run start waited out Npgsql's timeout and was
/// told the database was not reachable. Now the agents' store work queues in <see cref="GatewayStoreLane"/>, a long
/// poll holds no turn while it waits, and running out of connections is answered as what it is: busy.
/// </summary>
public sealed class GatewayStoreLaneTests : IAsyncLifetime
{
    private readonly HeldDirectory directory = new();
    private ServerHost host = null!;

    public async Task InitializeAsync() => host = await ServerHost.StartAsync(StoreProvider.Sqlite, new()
    {
        ["Rehome:Directories:Mode"] = "Simulated",
        ["Rehome:Gateway:EnrollmentsPerMinute"] = "10000",
        ["Rehome:Gateway:StoreConcurrency"] = "1",
        ["Rehome:Gateway:StoreQueueTimeout"] = "00:00:02",
    }, services => services.AddSingleton<IMigrationDirectory>(sp => directory.Around(sp.GetRequiredService<SimulatedDirectory>())));

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task With_the_agents_share_taken_an_agent_is_answered_busy_and_changes_nothing_while_administrators_go_on()
    {
        using var device = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        var lane = host.App.Services.GetRequiredService<GatewayStoreLane>();
        var before = await host.FingerprintAsync();

        HttpResponseMessage refused;
        HttpResponseMessage administrator;
        using (await lane.EnterAsync(CancellationToken.None))
        {
            refused = await device.Agent.PostAsJsonAsync("/agent/v1/facts", Facts(device, "Windows 11 24H2"), AgentProtocol.JsonOptions);
            administrator = await host.Client.GetAsync(new Uri($"/api/v1/projects/{device.ProjectId}/mappings", UriKind.Relative));
        }
        var during = await host.FingerprintAsync();
        using var accepted = await device.Agent.PostAsJsonAsync("/agent/v1/facts", Facts(device, "Windows 11 24H2"), AgentProtocol.JsonOptions);

        using (refused)
        using (administrator)
        {
            var problem = await ProblemAsync(refused);
            Assert.Equal(("ServerBusy", TimeSpan.FromSeconds(StoreUnavailableHandler.RetryAfterSeconds)),
                (problem.GetProperty("rule").GetString(), refused.Headers.RetryAfter?.Delta));
            Assert.Equal(HttpStatusCode.OK, administrator.StatusCode);
        }
        Assert.Equal(before, during);
        Assert.Equal(HttpStatusCode.NoContent, accepted.StatusCode);
        Assert.Equal("Windows 11 24H2", (await StoredAgentAsync(device.AgentId)).OsVersion);
        Assert.Equal(0, lane.InUse);
    }

    [Fact]
    public async Task A_progress_report_that_keeps_a_lease_waits_for_its_turn_where_other_calls_are_turned_away()
    {
        using var device = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"), source: new { domainDnsName = "contoso.example" });
        var job = await host.RunAndPollAsync(device, "RejoinDomain");
        var lane = host.App.Services.GetRequiredService<GatewayStoreLane>();

        Task<HttpResponseMessage> progress;
        HttpResponseMessage facts;
        using (await lane.EnterAsync(CancellationToken.None))
        {
            progress = device.Agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/progress",
                new ProgressReport { LeaseToken = job.LeaseToken, Step = "PrepareJoin", ItemsDone = 3, ItemsTotal = 10 }, AgentProtocol.JsonOptions);
            facts = await device.Agent.PostAsJsonAsync("/agent/v1/facts", Facts(device, "Windows 11 24H2"), AgentProtocol.JsonOptions);
            // Held a queue timeout past the one the facts were turned away by (the report's patience is three): it is
            // still waiting, not refused.
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.False(progress.IsCompleted, "the progress report should wait for its turn");
        }
        using var renewed = await progress;

        using (facts)
        {
            Assert.Equal("ServerBusy", (await ProblemAsync(facts)).GetProperty("rule").GetString());
        }
        Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
        await using var scope = host.Scope();
        Assert.Equal(3, (await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Jobs.AsNoTracking().SingleAsync(j => j.Id == job.JobId)).ItemsDone);
    }

    [Fact]
    public async Task A_job_whose_renewal_waits_for_the_store_does_not_lapse_meanwhile_and_lapses_once_its_holder_falls_silent()
    {
        using var device = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"), source: new { domainDnsName = "contoso.example" });
        var job = await host.RunAndPollAsync(device, "RejoinDomain");
        var waiting = host.App.Services.GetRequiredService<Rehome.Server.Runs.RenewalsWaiting>();
        var lease = TimeSpan.FromSeconds(job.LeaseSeconds);
        SemaphoreSlim writer;
        await using (var scope = host.Scope())
        {
            writer = SqliteWriteGate.For(scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Database.GetConnectionString()!);
        }

        Task<HttpResponseMessage> progress;
        // Another writer holds the store (for up to its 60 s patience, past the lane's few seconds): the report, sent
        // inside its lease, waits to renew it while the lease runs out.
        await writer.WaitAsync();
        try
        {
            progress = device.Agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/progress",
                new ProgressReport { LeaseToken = job.LeaseToken, Step = "PrepareJoin", ItemsDone = 3, ItemsTotal = 10 }, AgentProtocol.JsonOptions);
            var leaseEnd = host.Time.GetUtcNow() + lease;
            for (var tries = 0; !waiting.Holds(job.JobId, device.AgentId, leaseEnd) && tries < 400; tries++)
            {
                await Task.Delay(25);
            }
            Assert.True(waiting.Holds(job.JobId, device.AgentId, leaseEnd));
            host.Time.Advance(lease + TimeSpan.FromSeconds(1));
            Assert.Equal(0, await host.WithTransitionsAsync(t => t.ExpireLeasesAsync(5, CancellationToken.None)));
            Assert.Equal(Core.Runs.JobStatus.InProgress, (await host.StoredJobOfAsync(device.MappingId)).Status);
        }
        finally
        {
            writer.Release();
        }
        using (var renewed = await progress)
        {
            Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
        }
        Assert.Equal(0, waiting.Count);
        Assert.Equal(host.Time.GetUtcNow() + lease, (await host.StoredJobOfAsync(device.MappingId)).LeaseExpiresAt);

        // Nothing lingers: silent from now on, the job lapses when the renewed lease runs out.
        host.Time.Advance(lease + TimeSpan.FromSeconds(1));
        await host.WithTransitionsAsync(t => t.ExpireLeasesAsync(5, CancellationToken.None));
        var lapsed = await host.StoredJobOfAsync(device.MappingId);
        Assert.Equal((Core.Runs.JobStatus.WaitingToStart, Core.Runs.JobErrorCodes.LeaseLapsed), (lapsed.Status, lapsed.ErrorCode));
    }

    [Fact]
    public async Task Long_polls_hold_no_turn_on_the_store_while_they_wait()
    {
        using var device = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        var lane = host.App.Services.GetRequiredService<GatewayStoreLane>();

        // Three polls waiting 8 s each on a lane of one turn with a 2 s queue: were a waiting poll to hold the turn,
        // the report below would be answered busy.
        var polls = Enumerable.Range(0, 3).Select(_ => device.Agent.PostAsync(new Uri("/agent/v1/poll?wait=8", UriKind.Relative), null)).ToList();
        // A poll has looked in the store and gone on to wait (the look records the signal generation it saw).
        var entry = (await host.App.Services.GetRequiredService<AgentRegistry>().FindAsync(device.AgentId, CancellationToken.None))!;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (entry.CheckedGeneration == -1 && waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(20);
        }
        Assert.NotEqual(-1, entry.CheckedGeneration);
        using var report = await device.Agent.PostAsJsonAsync("/agent/v1/facts", Facts(device, "Windows 11 25H2"), AgentProtocol.JsonOptions);
        var pollsStillWaiting = polls.All(p => !p.IsCompleted);

        Assert.Equal(HttpStatusCode.NoContent, report.StatusCode);
        Assert.True(pollsStillWaiting, "the polls should still have been waiting when the report was answered");
        foreach (var poll in await Task.WhenAll(polls))
        {
            Assert.Equal(HttpStatusCode.NoContent, poll.StatusCode);
            poll.Dispose();
        }
        Assert.Equal(0, lane.InUse);
    }

    [Fact]
    public async Task A_directory_call_gives_its_turn_on_the_store_back_while_the_directory_answers()
    {
        using var device = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"), source: new { domainDnsName = "contoso.example" });
        var job = await host.RunAndPollAsync(device, "RejoinDomain");
        var lane = host.App.Services.GetRequiredService<GatewayStoreLane>();

        var ticket = device.Agent.AskReturnTicketAsync(job.JobId,
            new ReturnTicketRequest(job.LeaseToken, device.DeviceName, DeviceJoinType.ActiveDirectory, "contoso.example", null));
        await directory.Entered.WaitAsync(TimeSpan.FromSeconds(30));
        // The directory is making the return ticket; the lane's one turn is free for the device's other calls meanwhile.
        using var report = await device.Agent.PostAsJsonAsync("/agent/v1/facts", Facts(device, "Windows 11 24H2"), AgentProtocol.JsonOptions);
        var inUseWhileAway = lane.InUse;
        directory.Release();
        using var made = await ticket;

        Assert.Equal(HttpStatusCode.NoContent, report.StatusCode);
        Assert.Equal(0, inUseWhileAway);
        Assert.Equal(HttpStatusCode.OK, made.StatusCode);
        Assert.Equal(0, lane.InUse);
    }

    [Fact]
    public async Task A_call_that_keeps_a_job_gets_a_reserved_turn_while_other_agent_calls_hold_every_other_one()
    {
        var lane = Lane(capacity: 8);
        var others = new List<GatewayStoreLane.Permit>();
        for (var i = 0; i < lane.Capacity - lane.Reserved; i++)
        {
            others.Add(await lane.EnterAsync(CancellationToken.None));
        }

        var anotherCall = lane.EnterAsync(CancellationToken.None).AsTask();
        var renewals = Enumerable.Range(0, lane.Reserved).Select(_ => lane.EnterAsync(CancellationToken.None, keepsJob: true)).ToList();

        Assert.Equal(2, lane.Reserved);
        Assert.All(renewals, r => Assert.True(r.IsCompletedSuccessfully, "a renewal should get a reserved turn at once"));
        await Assert.ThrowsAsync<ServerBusyException>(() => anotherCall);
        foreach (var permit in others.Concat(renewals.Select(r => r.Result)))
        {
            permit.Dispose();
        }
        Assert.Equal(0, lane.InUse);
    }

    [Fact]
    public async Task A_turn_given_back_goes_to_a_waiting_call_that_keeps_a_job_before_calls_that_waited_longer()
    {
        var lane = Lane(capacity: 4, queueTimeout: TimeSpan.FromSeconds(5));
        var held = new List<GatewayStoreLane.Permit>();
        for (var i = 0; i < lane.Capacity; i++)
        {
            held.Add(await lane.EnterAsync(CancellationToken.None, keepsJob: true));
        }
        var facts = lane.EnterAsync(CancellationToken.None).AsTask();
        var renewal = lane.EnterAsync(CancellationToken.None, keepsJob: true).AsTask();

        held[0].Dispose();
        // Had the turn gone to the facts, the renewal would wait out its patience and be turned away.
        var renewed = await renewal;
        held[1].Dispose();
        var inUseWithOneTurnFree = lane.InUse;
        held[2].Dispose();
        var factsTurn = await facts;

        // The last free turn is kept for calls that keep a job: the facts got theirs only once two were free.
        Assert.Equal(3, inUseWithOneTurnFree);
        foreach (var permit in new[] { renewed, factsTurn, held[3] })
        {
            permit.Dispose();
        }
        Assert.Equal(0, lane.InUse);
    }

    private static GatewayStoreLane Lane(int capacity, TimeSpan? queueTimeout = null) => new(
        Options.Create(new GatewayOptions { StoreConcurrency = capacity, StoreQueueTimeout = queueTimeout ?? TimeSpan.FromSeconds(1) }),
        Options.Create(new StoreOptions { Provider = StoreProvider.Sqlite }));

    [Fact]
    public void A_connection_string_that_is_not_PostgreSQL_s_is_named_at_start()
    {
        var rules = new GatewayOptionsRules(Options.Create(new StoreOptions { Provider = StoreProvider.PostgreSql, ConnectionString = "no such keyword=1" }));

        var refused = rules.Validate(null, new GatewayOptions());

        Assert.Equal("Rehome:Store:ConnectionString is not a PostgreSQL connection string.", refused.FailureMessage);
    }

    [Fact]
    public void By_default_agents_get_half_of_the_PostgreSQL_pool_and_may_not_be_given_all_of_it()
    {
        var store = new StoreOptions { Provider = StoreProvider.PostgreSql, ConnectionString = "Host=db;Username=rehome;Maximum Pool Size=40" };
        var rules = new GatewayOptionsRules(Options.Create(store));

        Assert.Equal(20, GatewayStoreLane.CapacityFor(new GatewayOptions(), store));
        Assert.Equal(50, GatewayStoreLane.CapacityFor(new GatewayOptions(), new StoreOptions { Provider = StoreProvider.PostgreSql, ConnectionString = "Host=db" }));
        Assert.True(rules.Validate(null, new GatewayOptions { StoreConcurrency = 39 }).Succeeded);
        var refused = rules.Validate(null, new GatewayOptions { StoreConcurrency = 40 });
        Assert.True(refused.Failed);
        Assert.Contains("Rehome:Gateway:StoreConcurrency (40) must be smaller than the PostgreSQL connection pool (Maximum Pool Size 40)", refused.FailureMessage);
        // A pool of one leaves nothing to share: the default share would be all of it.
        var single = new GatewayOptionsRules(Options.Create(new StoreOptions { Provider = StoreProvider.PostgreSql, ConnectionString = "Host=db;Maximum Pool Size=1" }));
        Assert.True(single.Validate(null, new GatewayOptions()).Failed);
    }

    private static DeviceFacts Facts(EnrolledDevice device, string os) => new() { DeviceName = device.DeviceName, OsVersion = os, AgentVersion = "test" };

    private async Task<Core.Agents.DeviceAgent> StoredAgentAsync(Guid agentId)
    {
        await using var scope = host.Scope();
        return await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Agents.AsNoTracking().SingleAsync(a => a.Id == agentId);
    }

    /// <summary>The simulated directory, whose return tickets wait until the test lets it answer.</summary>
    private sealed class HeldDirectory
    {
        private readonly TaskCompletionSource entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Entered => entered.Task;

        public void Release() => released.TrySetResult();

        public IMigrationDirectory Around(IMigrationDirectory inner) => new Held(inner, this);

        private sealed class Held(IMigrationDirectory inner, HeldDirectory gate) : IMigrationDirectory
        {
            public Task<DestinationPreparation> PrepareDestinationAsync(DestinationRequest request, CancellationToken ct) => inner.PrepareDestinationAsync(request, ct);

            public Task<DestinationCheck> CheckDestinationAsync(DestinationRequest request, CancellationToken ct) => inner.CheckDestinationAsync(request, ct);

            public Task<SidMapAnswer> MapSidsAsync(Core.Projects.Project project, Core.Policies.PolicySettings policy, IReadOnlyList<Security.Sids.SecurityIdentifier> sids, CancellationToken ct) =>
                inner.MapSidsAsync(project, policy, sids, ct);

            public Task<DirectoryActionAnswer> RunActionAsync(Guid jobId, Core.Projects.Project project, Core.Mappings.Mapping mapping, DirectoryActionRequest request, CancellationToken ct) =>
                inner.RunActionAsync(jobId, project, mapping, request, ct);

            public async Task<ReturnTicket> MakeReturnTicketAsync(ReturnTicketRequirement request, CancellationToken ct)
            {
                gate.entered.TrySetResult();
                await gate.released.Task.WaitAsync(ct);
                return await inner.MakeReturnTicketAsync(request, ct);
            }
        }
    }

    internal static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{response.RequestMessage!.RequestUri} answered {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("Exception", body, StringComparison.OrdinalIgnoreCase);
        return JsonDocument.Parse(body).RootElement;
    }
}

/// <summary>A PostgreSQL pool with no connection left is the server being busy, not the database being away.</summary>
public sealed class PoolExhaustionTests
{
    [Fact]
    public async Task An_administrator_who_finds_every_pooled_connection_taken_is_told_the_server_is_busy()
    {
        await using var primary = await ServerHost.StartAsync(StoreProvider.PostgreSql);
        // Timeout is also the wait for a pooled connection: short enough for the test, long enough to connect on a busy machine.
        var small = new NpgsqlConnectionStringBuilder(primary.ConnectionString) { MaxPoolSize = 3, Timeout = 3 }.ToString();
        await using var replica = await primary.StartReplicaAsync(new() { ["Rehome:Store:ConnectionString"] = small });

        // The replica's own pool, taken by three units of work that do not let go.
        var held = new List<AsyncServiceScope>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var scope = replica.Scope();
                held.Add(scope);
                await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Database.OpenConnectionAsync();
            }
            using var response = await replica.Client.GetAsync(new Uri("/api/v1/projects", UriKind.Relative));

            var problem = await GatewayStoreLaneTests.ProblemAsync(response);
            Assert.Equal("ServerBusy", problem.GetProperty("rule").GetString());
            Assert.Equal(TimeSpan.FromSeconds(StoreUnavailableHandler.RetryAfterSeconds), response.Headers.RetryAfter?.Delta);
        }
        finally
        {
            foreach (var scope in held)
            {
                await scope.DisposeAsync();
            }
        }
        using var afterwards = await replica.Client.GetAsync(new Uri("/api/v1/projects", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, afterwards.StatusCode);
    }
}
