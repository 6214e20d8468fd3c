using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Rehome.Protocol;
using Rehome.Server.Auth;
using Rehome.Server.Gateway;
using Rehome.Server.Runs;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Gateway;

/// <summary>
/// An idle poll costs the server almost nothing (issue 16): no store context, no timer of its own, no claims built,
/// last-seen written in batches. What a poll answers stays exactly as it was: the job at once when it is queued, 204
/// at the end of its wait, 401 once revoked. The recheck is ten minutes here, so only the wake-up can bring a job.
/// </summary>
public sealed class IdlePollTests : IAsyncLifetime
{
    private ServerHost host = null!;
    private int contexts;
    private int bearerHandlers;

    public async Task InitializeAsync() => host = await ServerHost.StartAsync(StoreProvider.Sqlite, new()
    {
        ["Rehome:Directories:Mode"] = "Simulated",
        ["Rehome:Gateway:EnrollmentsPerMinute"] = "10000",
        ["Rehome:Gateway:RecheckInterval"] = "00:10:00",
    }, services =>
    {
        services.AddScoped<RehomeDbContext>(sp =>
        {
            // Every store context a request (or anything else) asks for.
            Interlocked.Increment(ref contexts);
            return sp.GetRequiredService<SqliteRehomeDbContext>();
        });
        // Every bearer handler the authentication service makes (it takes the scheme's handler from the container first).
        services.AddTransient(sp =>
        {
            Interlocked.Increment(ref bearerHandlers);
            return ActivatorUtilities.CreateInstance<BearerTokenAuthenticationHandler>(sp);
        });
    });

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task A_poll_that_times_out_answers_204_and_the_next_held_poll_gets_the_job_the_moment_it_is_queued()
    {
        using var device = await Enroll();
        var signals = host.App.Services.GetRequiredService<JobSignals>();

        using (var timedOut = await device.Agent.PostAsync(new Uri("/agent/v1/poll?wait=1", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.NoContent, timedOut.StatusCode);
        }
        Assert.Equal(0, signals.Waiting);

        var held = device.Agent.PostAsync(new Uri($"/agent/v1/poll?wait={AgentProtocol.MaxPollSeconds}", UriKind.Relative), null);
        await WaitUntil(() => signals.Waiting == 1, "the poll to wait");
        await host.RunAsync(device, "RejoinDomain");

        using var answer = await held;
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var job = await answer.Content.ReadFromJsonAsync<JobAssignment>(AgentProtocol.JsonOptions);
        Assert.Equal(device.DeviceName, job!.Mapping.SourceDevice);
        Assert.Equal(0, signals.Waiting);
    }

    [Fact]
    public async Task Many_held_polls_are_all_answered_by_one_job_each_and_leave_no_wait_behind()
    {
        var devices = new List<EnrolledDevice>();
        for (var i = 0; i < 3; i++)
        {
            devices.Add(await Enroll());
        }
        var signals = host.App.Services.GetRequiredService<JobSignals>();
        var held = devices.Select(d => d.Agent.PostAsync(new Uri($"/agent/v1/poll?wait={AgentProtocol.MaxPollSeconds}", UriKind.Relative), null)).ToArray();
        await WaitUntil(() => signals.Waiting == devices.Count, "every poll to wait");

        foreach (var device in devices)
        {
            await host.RunAsync(device, "RejoinDomain");
        }

        var answers = await Task.WhenAll(held);
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.Equal(0, signals.Waiting);
        foreach (var (answer, device) in answers.Zip(devices))
        {
            answer.Dispose();
            device.Dispose();
        }
    }

    [Fact]
    public async Task Wakes_without_a_job_return_the_held_poll_to_its_agents_one_waiter_and_the_job_queued_after_them_still_reaches_it()
    {
        using var device = await Enroll();
        var signals = host.App.Services.GetRequiredService<JobSignals>();
        var entry = (await host.App.Services.GetRequiredService<AgentRegistry>().FindAsync(device.AgentId, CancellationToken.None))!;
        var held = await HoldAsync(device, signals, entry);

        for (var i = 0; i < 5; i++)
        {
            var seen = entry.CheckedGeneration;
            signals.SignalHere([device.MappingId]);
            // Woken, it looks in the store at the new generation, finds nothing, and waits again: in the same one waiter.
            await WaitUntil(() => entry.CheckedGeneration != seen && entry.CheckedGeneration == signals.Generation(device.MappingId) && signals.Waiting == 1,
                "the poll to look at the new generation and wait again");
            Assert.True(entry.Waiter.Taken);
            Assert.False(held.IsCompleted);
        }
        await JobAnswersHeldPollAsync(device, held, signals, entry);
    }

    [Fact]
    public async Task A_poll_that_times_out_or_is_aborted_gives_its_agents_waiter_back_and_the_next_held_poll_is_still_woken_by_its_job()
    {
        using var device = await Enroll();
        var signals = host.App.Services.GetRequiredService<JobSignals>();
        var entry = (await host.App.Services.GetRequiredService<AgentRegistry>().FindAsync(device.AgentId, CancellationToken.None))!;
        using (var timedOut = await device.Agent.PostAsync(new Uri("/agent/v1/poll?wait=1", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.NoContent, timedOut.StatusCode);
        }
        Assert.Equal(0, signals.Waiting);
        Assert.False(entry.Waiter.Taken);

        using (var abort = new CancellationTokenSource())
        {
            // The agent's mapping is known now: this poll is held in the agent's own HeldPoll, without the store.
            var aborted = device.Agent.PostAsync(new Uri($"/agent/v1/poll?wait={AgentProtocol.MaxPollSeconds}", UriKind.Relative), null, abort.Token);
            await WaitUntil(() => signals.Waiting == 1 && entry.Waiter.Taken && entry.HeldPoll.Taken, "the poll to wait in its agent's waiter and held poll");
            await abort.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => aborted);
        }
        // The server's sweep ends the aborted wait and the waiter and the held poll are free again.
        await WaitUntil(() => signals.Waiting == 0 && !entry.Waiter.Taken && !entry.HeldPoll.Taken, "the aborted poll's wait to end");

        var held = await HoldAsync(device, signals, entry);
        // The waiter is taken in the look, just before the held poll: wait for both.
        await WaitUntil(() => entry.HeldPoll.Taken, "the poll to be held in its agent's held poll");
        await JobAnswersHeldPollAsync(device, held, signals, entry);
    }

    /// <summary>A poll of the device held open until it waits in its agent's one waiter.</summary>
    private static async Task<Task<HttpResponseMessage>> HoldAsync(EnrolledDevice device, JobSignals signals, AgentEntry entry)
    {
        var held = device.Agent.PostAsync(new Uri($"/agent/v1/poll?wait={AgentProtocol.MaxPollSeconds}", UriKind.Relative), null);
        await WaitUntil(() => signals.Waiting == 1 && entry.Waiter.Taken, "the poll to wait in its agent's waiter");
        return held;
    }

    /// <summary>A job started for the device answers its held poll at once, and the poll gives its waiter back.</summary>
    private async Task JobAnswersHeldPollAsync(EnrolledDevice device, Task<HttpResponseMessage> held, JobSignals signals, AgentEntry entry)
    {
        await host.RunAsync(device, "RejoinDomain");
        using var answer = await held;
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(0, signals.Waiting);
        Assert.False(entry.Waiter.Taken);
        Assert.False(entry.HeldPoll.Taken);
    }

    [Fact]
    public async Task A_job_no_signal_announced_is_found_by_the_servers_one_recheck_and_handed_to_the_held_poll()
    {
        using var device = await Enroll();
        var signals = host.App.Services.GetRequiredService<JobSignals>();
        await host.RunAsync(device, "RejoinDomain");
        // As if the signal had been lost (another replica died between its commit and its NOTIFY): the agent's memory
        // says it already looked at this generation.
        var entry = await host.App.Services.GetRequiredService<AgentRegistry>().FindAsync(device.AgentId, CancellationToken.None);
        entry!.CheckedGeneration = signals.Generation(device.MappingId);
        var recheck = host.App.Services.GetServices<IHostedService>().OfType<PollRecheck>().Single();

        var held = device.Agent.PostAsync(new Uri($"/agent/v1/poll?wait={AgentProtocol.MaxPollSeconds}", UriKind.Relative), null);
        await WaitUntil(() => signals.Waiting == 1, "the poll to wait");
        Assert.Equal(1, await recheck.RecheckAsync(CancellationToken.None));

        using var answer = await held;
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(0, await recheck.RecheckAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_revoked_agent_is_refused_401()
    {
        using var device = await Enroll();
        using (var before = await device.Agent.PostAsync(new Uri("/agent/v1/poll?wait=0", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.NoContent, before.StatusCode);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await host.Client.PostAsJsonAsync($"/api/v1/agents/{device.AgentId}/revoke", new { })).StatusCode);

        using var after = await device.Agent.PostAsync(new Uri("/agent/v1/poll?wait=0", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task A_held_poll_of_an_agent_revoked_meanwhile_is_answered_401_at_once()
    {
        using var device = await Enroll();
        var signals = host.App.Services.GetRequiredService<JobSignals>();
        var held = device.Agent.PostAsync(new Uri($"/agent/v1/poll?wait={AgentProtocol.MaxPollSeconds}", UriKind.Relative), null);
        await WaitUntil(() => signals.Waiting == 1, "the poll to wait");

        Assert.Equal(HttpStatusCode.NoContent, (await host.Client.PostAsJsonAsync($"/api/v1/agents/{device.AgentId}/revoke", new { })).StatusCode);

        // Without the wake-up the poll would wait out its 55 s and answer 204.
        using var answer = await held;
        Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
        Assert.Equal(0, signals.Waiting);
    }

    [Fact]
    public async Task An_idle_poll_without_a_bearer_token_makes_no_store_context_where_an_administrators_request_does()
    {
        using var device = await Enroll();
        // The first poll looks in the store once (the agent's mapping's jobs); the next ones have nothing new to look at.
        using (await device.Agent.PostAsync(new Uri("/agent/v1/poll?wait=0", UriKind.Relative), null))
        {
        }
        var (before, afterPolls, afterAdministrator) = await CountAcrossPollsAndAnAdministratorsRequestAsync(device, () => Volatile.Read(ref contexts));

        Assert.Equal(before, afterPolls);
        Assert.True(afterAdministrator > afterPolls, "The counter counts: an administrator's request (a bearer token) makes a store context.");
    }

    [Fact]
    public async Task An_agents_poll_runs_no_bearer_authentication_where_an_administrators_request_does()
    {
        using var device = await Enroll();
        var (before, afterPolls, afterAdministrator) = await CountAcrossPollsAndAnAdministratorsRequestAsync(device, () => Volatile.Read(ref bearerHandlers));

        Assert.Equal(before, afterPolls);
        Assert.True(afterAdministrator > afterPolls, "The counter counts: an administrator's request runs the bearer handler.");
    }

    /// <summary>A counter read before five idle polls, after them, and after one administrator's request (a bearer token).</summary>
    private async Task<(int Before, int AfterPolls, int AfterAdministrator)> CountAcrossPollsAndAnAdministratorsRequestAsync(EnrolledDevice device, Func<int> counter)
    {
        var before = counter();
        for (var i = 0; i < 5; i++)
        {
            using var poll = await device.Agent.PostAsync(new Uri("/agent/v1/poll?wait=0", UriKind.Relative), null);
            Assert.Equal(HttpStatusCode.NoContent, poll.StatusCode);
        }
        var afterPolls = counter();
        using (await host.Client.GetAsync(new Uri($"/api/v1/projects/{device.ProjectId}/mappings", UriKind.Relative)))
        {
        }
        return (before, afterPolls, counter());
    }

    private Task<EnrolledDevice> Enroll() =>
        host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"), source: new { domainDnsName = "contoso.example" });

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), "Timed out waiting for " + what);
            await Task.Delay(20);
        }
    }
}

/// <summary>Last-seen times reach the store in one statement a batch, on both stores, and at shutdown.</summary>
public sealed class PresenceFlushTests
{
    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.PostgreSql)]
    public async Task Every_polling_agents_last_seen_is_written_by_the_flush_and_again_at_shutdown(StoreProvider provider)
    {
        await using var host = await ServerHost.StartAsync(provider, new()
        {
            ["Rehome:Directories:Mode"] = "Simulated",
            ["Rehome:Gateway:EnrollmentsPerMinute"] = "10000",
        });
        var devices = new List<EnrolledDevice>();
        for (var i = 0; i < 5; i++)
        {
            devices.Add(await host.EnrollDeviceAsync(AgentWorld.EntraDestination()));
        }
        var registry = host.App.Services.GetRequiredService<AgentRegistry>();
        // Two agents a statement: five agents are three statements, the last one short, each agent's time cut from
        // its own place in the batch's buffers (written by earlier, longer batches).
        registry.PresenceBatch = 2;

        host.Time.Advance(TimeSpan.FromMinutes(5));
        var polled = new List<DateTimeOffset>();
        foreach (var device in devices)
        {
            host.Time.Advance(TimeSpan.FromSeconds(1.5));
            await PollAllAsync([device]);
            polled.Add(host.Now);
        }
        await using (var scope = host.Scope())
        {
            await registry.FlushPresenceAsync(scope.ServiceProvider.GetRequiredService<RehomeDbContext>(), TimeSpan.Zero, CancellationToken.None);
        }
        var stored = await StoredAsync(host, devices);
        for (var i = 0; i < devices.Count; i++)
        {
            AssertClose(polled[i], stored[i]);
        }

        host.Time.Advance(TimeSpan.FromMinutes(5));
        await PollAllAsync(devices[..1]);
        await host.App.Services.GetRequiredService<RunEngineService>().StopAsync(CancellationToken.None);

        stored = await StoredAsync(host, devices);
        AssertClose(host.Now, stored[0]);
        for (var i = 1; i < devices.Count; i++)
        {
            AssertClose(polled[i], stored[i]);
        }
        devices.ForEach(d => d.Dispose());
    }

    [Theory]
    [InlineData(0L, "0")]
    [InlineData(1_796_000_000_123L, "1796000000123")]
    [InlineData(-62_135_596_800_000L, "-62135596800000")]
    [InlineData(long.MinValue, "-9223372036854775808")]
    public void A_time_is_written_right_aligned_in_its_fixed_field(long milliseconds, string expected)
    {
        var field = new byte[PresenceWriter.TimeWidth];
        PresenceWriter.WriteTime(field, milliseconds);
        Assert.Equal(expected.PadLeft(PresenceWriter.TimeWidth), System.Text.Encoding.ASCII.GetString(field));
    }

    private static async Task PollAllAsync(IEnumerable<EnrolledDevice> devices)
    {
        foreach (var device in devices)
        {
            using var poll = await device.Agent.PostAsync(new Uri("/agent/v1/poll?wait=0", UriKind.Relative), null);
            Assert.Equal(HttpStatusCode.NoContent, poll.StatusCode);
        }
    }

    private static async Task<DateTimeOffset[]> StoredAsync(ServerHost host, List<EnrolledDevice> devices)
    {
        await using var scope = host.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var ids = devices.Select(d => d.AgentId).ToList();
        var seen = await db.Agents.IgnoreQueryFilters().Where(a => ids.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.LastSeenAt);
        return [.. ids.Select(id => seen[id])];
    }

    /// <summary>SQLite keeps milliseconds, PostgreSQL microseconds.</summary>
    private static void AssertClose(DateTimeOffset expected, DateTimeOffset stored) =>
        Assert.True(Math.Abs((expected - stored).TotalMilliseconds) < 1, $"Stored {stored:O}, expected {expected:O}");
}

/// <summary>The server's one recheck finds a job no signal announced on both stores (its ids are one collection parameter).</summary>
public sealed class PollRecheckStoresTests
{
    /// <summary>
    /// With an offline-join destination, the rejoin waits for its destination's preparation and is a job row; with
    /// Entra ID it needs none and stays a run item until it is leased: the recheck must find both.
    /// </summary>
    [Theory]
    [InlineData(StoreProvider.Sqlite, false)]
    [InlineData(StoreProvider.PostgreSql, false)]
    [InlineData(StoreProvider.Sqlite, true)]
    [InlineData(StoreProvider.PostgreSql, true)]
    public async Task The_recheck_finds_the_held_polls_unannounced_job_and_only_it(StoreProvider provider, bool runItems)
    {
        await using var host = await StartAsync(provider);
        Task<EnrolledDevice> Enroll() => runItems ? host.EnrollDeviceAsync(AgentWorld.EntraDestination()) : EnrollAsync(host);
        using var idle = await Enroll();
        var devices = new List<EnrolledDevice>();
        for (var i = 0; i < 3; i++)
        {
            devices.Add(await Enroll());
        }
        var signals = host.App.Services.GetRequiredService<JobSignals>();
        // Jobs for the three; the idle agent waits with nothing.
        foreach (var device in devices)
        {
            await host.RunAsync(device, "RejoinDomain");
            var entry = await host.App.Services.GetRequiredService<AgentRegistry>().FindAsync(device.AgentId, CancellationToken.None);
            entry!.CheckedGeneration = signals.Generation(device.MappingId);
        }
        await using (var scope = host.App.Services.CreateAsyncScope())
        {
            var items = await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().RunItems.CountAsync();
            Assert.Equal(runItems ? 3 : 0, items);
        }
        var recheck = host.App.Services.GetServices<IHostedService>().OfType<PollRecheck>().Single();
        // Three mappings a statement: the four waiting polls are two statements, the second with one mapping. Whatever
        // order they come in, the first statement's buffer holds at least one mapping with a job in a place the second
        // must not read (only one of the four has none): read, it would be counted twice.
        recheck.ChunkSize = 3;

        var quiet = idle.Agent.PostAsync(new Uri($"/agent/v1/poll?wait={AgentProtocol.MaxPollSeconds}", UriKind.Relative), null);
        var held = devices.Select(d => d.Agent.PostAsync(new Uri($"/agent/v1/poll?wait={AgentProtocol.MaxPollSeconds}", UriKind.Relative), null)).ToList();
        var clock = Stopwatch.StartNew();
        while (signals.Waiting < 4)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), "Timed out waiting for all four polls to wait");
            await Task.Delay(20);
        }
        Assert.Equal(3, await recheck.RecheckAsync(CancellationToken.None));

        foreach (var answering in held)
        {
            using var answer = await answering;
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }
        Assert.Equal(0, await recheck.RecheckAsync(CancellationToken.None));
        Assert.False(quiet.IsCompleted);
        Assert.Equal(HttpStatusCode.NoContent, (await host.Client.PostAsJsonAsync($"/api/v1/agents/{idle.AgentId}/revoke", new { })).StatusCode);
        using var refused = await quiet;
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        devices.ForEach(d => d.Dispose());
    }

    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.PostgreSql)]
    public async Task A_short_statement_reads_only_its_own_mappings_whatever_the_last_one_held(StoreProvider provider)
    {
        await using var host = await StartAsync(provider);
        var devices = new List<EnrolledDevice>();
        for (var i = 0; i < 4; i++)
        {
            devices.Add(await EnrollAsync(host));
        }
        foreach (var device in devices[..3])
        {
            await host.RunAsync(device, "RejoinDomain");
        }
        var (job1, job2, job3, none) = (devices[0].MappingId, devices[1].MappingId, devices[2].MappingId, devices[3].MappingId);
        var recheck = host.App.Services.GetServices<IHostedService>().OfType<PollRecheck>().Single();
        recheck.ChunkSize = 3;

        // No poll waits, so nothing is woken and nothing leased meanwhile: each count is the statements' alone. The
        // second statement has one mapping; the first left two with jobs (then one with and the one without) in the
        // places it must not read.
        Assert.Equal(3, await recheck.RecheckAsync([job1, job2, job3, none], CancellationToken.None));
        Assert.Equal(3, await recheck.RecheckAsync([job1, job2, none, job3], CancellationToken.None));
        Assert.Equal(3, await recheck.RecheckAsync([job1, job2, job3, none, none], CancellationToken.None));
        Assert.Equal(1, await recheck.RecheckAsync([none, none, none, job3], CancellationToken.None));
        devices.ForEach(d => d.Dispose());
    }

    /// <summary>A server whose own recheck waits ten minutes: the tests run it themselves.</summary>
    private static Task<ServerHost> StartAsync(StoreProvider provider) => ServerHost.StartAsync(provider, new()
    {
        ["Rehome:Directories:Mode"] = "Simulated",
        ["Rehome:Gateway:EnrollmentsPerMinute"] = "10000",
        ["Rehome:Gateway:RecheckInterval"] = "00:10:00",
    });

    private static Task<EnrolledDevice> EnrollAsync(ServerHost host) =>
        host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"), source: new { domainDnsName = "contoso.example" });
}
