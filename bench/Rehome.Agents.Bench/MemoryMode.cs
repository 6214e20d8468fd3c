using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Cli.Client;
using Rehome.Cli.Rehearsal;
using Rehome.Core.Runs;
using Rehome.Protocol;

namespace Rehome.Agents.Bench;

/// <summary>
/// memory: ONE server process (SQLite) with a project of that many mappings and that many enrolled agents linked to
/// mappings, each holding a long poll of <c>wait</c> seconds (hold-client, 10,000 agents a process). Prints the server's
/// working set and GC heap as hold does, and what the server allocates per idle poll: the runtime's allocation counter
/// (<c>dotnet.gc.heap.total_allocated</c> on /metrics) over a window in which agents only poll and nothing else happens,
/// divided by the polls the server answered in it (its own request counter). Next to it, measured in the same run, bare
/// Kestrel's bytes per request: a minimal endpoint in this process answering the same poll (its allocation counter is
/// this process's, which does nothing else meanwhile), driven by a child process (bare-client); and the reference an
/// idle poll is held to, bare Kestrel holding the same agents' polls for the same wait on as many connections
/// (<see cref="HeldBareKestrelBytesPerPollAsync"/>).
/// </summary>
public static class MemoryMode
{
    private const string PollRoute = "http_route=\"/agent/v1/poll\"";

    /// <summary>The bytes Kestrel's memory pool allocated (its blocks), as the server's /metrics exports the pool's counter.</summary>
    private const string PoolAllocated = "aspnetcore_memory_pool_allocated_bytes_total";

    // extra: more server settings, Key=Value (to measure what one of them costs).
    public static async Task RunAsync(string root, int mappings, int agents, int wait, int seconds, IEnumerable<string> extra)
    {
        if (agents > mappings)
        {
            throw new ArgumentException($"{agents:N0} agents need as many mappings (not {mappings:N0}).");
        }
        var port = ServerProcess.FreePort();
        var settings = ServerProcess.FleetSettings(root);
        foreach (var setting in extra)
        {
            var (key, value) = (setting[..setting.IndexOf('=', StringComparison.Ordinal)], setting[(setting.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            settings[key] = value;
            Console.WriteLine($"server setting {key}={value}");
        }
        await using var server = await ServerProcess.StartAsync("server", Path.Combine(root, "logs"), settings, $"http://127.0.0.1:{port}");
        using var metrics = new HttpClient { Timeout = TimeSpan.FromMinutes(1) };
        Console.WriteLine($"server pid {server.Pid}; started: working set {Mib(server.ResidentBytes())}");

        using var api = new RehomeApiClient(server.Address, await server.SignInAsync());
        var setUp = Stopwatch.StartNew();
        var scenario = new RehearsalScenario(api, root, new RehearsalOptions { Devices = mappings, Jobs = [JobKind.MigrateEntraIdGroups] });
        await scenario.SetUpAsync(CancellationToken.None);
        Console.WriteLine($"project of {mappings:N0} mappings set up in {setUp.Elapsed.TotalSeconds:F1} s; working set {Mib(server.ResidentBytes())}");

        // What one scrape of /metrics allocates in the server, with nothing else going on: two in a row, the second's
        // reading minus the first's (taken off the window's figure below, which spans one scrape).
        var scrapes = new List<double>();
        for (var i = 0; i < 4; i++)
        {
            scrapes.Add(await Allocated(server, metrics));
        }
        var scrape = Enumerable.Range(1, scrapes.Count - 1).Select(i => scrapes[i] - scrapes[i - 1]).Min();
        var quietStart = await Allocated(server, metrics);
        await Task.Delay(TimeSpan.FromSeconds(10));
        var quiet = (await Allocated(server, metrics) - quietStart - scrape) / 10;
        Console.WriteLine($"before the fleet: one /metrics scrape allocates {scrape:N0} B in the server; the server alone allocates {quiet:N0} B/s");

        var clients = new List<Process>();
        try
        {
            var (_, enrollment) = await HoldMode.StartClientsAsync(clients, agents, server.Address, scenario.ConfigurationKey, "http1", wait);
            Console.WriteLine($"{agents:N0} agents enrolled in {enrollment.TotalSeconds:F1} s; working set {Mib(server.ResidentBytes())}");

            var waiting = 0.0;
            var holding = Stopwatch.StartNew();
            while (waiting < agents && holding.Elapsed < TimeSpan.FromSeconds(120))
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                waiting = await server.MetricAsync(metrics, "http_server_active_requests", "http_request_method=\"POST\"");
            }
            Console.WriteLine(waiting >= agents
                ? $"all {agents:N0} polls waiting {holding.Elapsed.TotalSeconds:F0} s after the last enrollment"
                : $"only {waiting:N0} of {agents:N0} polls waiting after 120 s: see the clients' failures above and {server.LogFile}");
            // One whole round of polls (each agent's first poll looked in the store; the next ones find nothing new),
            // and a full recheck interval, before the window opens: from then on the agents only poll.
            await Task.Delay(TimeSpan.FromSeconds(wait + 5));
            var polls0 = await server.MetricAsync(metrics, "http_server_request_duration_seconds_count", PollRoute);
            var pool0 = await server.MetricAsync(metrics, PoolAllocated);
            var allocated0 = await Allocated(server, metrics);
            var window = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(seconds));
            var allocated1 = await Allocated(server, metrics);
            var pool1 = await server.MetricAsync(metrics, PoolAllocated);
            var polls1 = await server.MetricAsync(metrics, "http_server_request_duration_seconds_count", PollRoute);
            var elapsed = window.Elapsed.TotalSeconds;
            var polls = polls1 - polls0;
            var perPoll = (allocated1 - allocated0 - scrape) / Math.Max(1, polls);
            var poolPerPoll = (pool1 - pool0) / Math.Max(1, polls);

            waiting = await server.MetricAsync(metrics, "http_server_active_requests", "http_request_method=\"POST\"");
            var heap = await server.MetricAsync(metrics, "dotnet_gc_last_collection_heap_size_bytes");
            var committed = await server.MetricAsync(metrics, "dotnet_gc_last_collection_memory_committed_size_bytes");
            var rss = server.ResidentBytes();
            Console.WriteLine($"held: {waiting:N0} polls waiting ({server.OpenFiles():N0} open files in the server)");
            // The references run in this process: the fleet and the server stop first, so that nothing else allocates here.
            await HoldMode.StopClientsAsync(clients);
            clients.Clear();
            await server.DisposeAsync();
            var bare = await BareKestrelBytesPerRequestAsync((int)Math.Clamp(polls, 20_000, 200_000));
            var held = await HeldBareKestrelBytesPerPollAsync(clients, agents, wait, seconds);
            var heldWithMetrics = await HeldBareKestrelBytesPerPollAsync(clients, agents, wait, seconds, requestMetrics: true);
            Console.WriteLine($"server memory: working set (VmRSS) {Mib(rss)}, GC heap at the last collection {Mib((long)heap)} (committed {Mib((long)committed)})");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"idle polls: {polls:N0} answered in {elapsed:F0} s ({polls / elapsed:N0}/s, wait={wait} s); the server allocated {allocated1 - allocated0 - scrape:N0} B " +
                $"(one scrape taken off) = {perPoll:N0} B per idle poll; bare Kestrel {bare:N0} B per request (same run); Rehome's own {perPoll - bare:N0} B per poll " +
                $"(of which the server alone, without the fleet, ≈ {quiet * elapsed / Math.Max(1, polls):N0} B)"));
            var alone = quiet * elapsed / Math.Max(1, polls);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"held bare Kestrel (a TaskCompletionSource a poll, one timer), the same {agents:N0} agents holding wait={wait} s polls on their own connections: {held.Polls:N0} answered in {held.Seconds:F0} s, " +
                $"{held.BytesPerPoll:N0} B per poll; Rehome's poll beyond it, less the server alone: {perPoll - held.BytesPerPoll - alone:N0} B"));
            // Kestrel's memory pool allocates 4 KB blocks when the connections need more than it holds, and evicts idle ones
            // every 10 s: what it allocates a poll moves with the rhythm of the polls between runs, in both servers alike.
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"of which Kestrel's memory pool: Rehome {poolPerPoll:N0} B per poll, held bare Kestrel {held.PoolBytesPerPoll:N0} B; without it, Rehome {perPoll - poolPerPoll:N0} B " +
                $"(less the server alone {perPoll - poolPerPoll - alone:N0} B), held bare Kestrel {held.BytesPerPoll - held.PoolBytesPerPoll:N0} B; " +
                $"Rehome's poll beyond it: {perPoll - poolPerPoll - alone - (held.BytesPerPoll - held.PoolBytesPerPoll):N0} B"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"held bare Kestrel with ASP.NET Core's request metrics listened to, as Rehome's server records them: {heldWithMetrics.BytesPerPoll:N0} B per poll, " +
                $"without the pool {heldWithMetrics.BytesPerPoll - heldWithMetrics.PoolBytesPerPoll:N0} B; " +
                $"Rehome's poll beyond it, without the pool: {perPoll - poolPerPoll - alone - (heldWithMetrics.BytesPerPoll - heldWithMetrics.PoolBytesPerPoll):N0} B"));
        }
        finally
        {
            await HoldMode.StopClientsAsync(clients);
        }
    }

    /// <summary>
    /// Bare Kestrel in this process (polls-ratio's endpoint), asked <paramref name="requests"/> times by a child process
    /// over 64 keep-alive connections after a warm-up; this process's allocation over them, per request.
    /// </summary>
    private static async Task<double> BareKestrelBytesPerRequestAsync(int requests)
    {
        await using var bare = await PollsRatioMode.StartBareAsync();
        var address = bare.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using (var warmUp = Process.Start(Children.StartInfo("bare-client", "5000", address))!)
        {
            await warmUp.WaitForExitAsync();
        }
        GC.Collect();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        using (var client = Process.Start(Children.StartInfo("bare-client", requests.ToString(CultureInfo.InvariantCulture), address))!)
        {
            await client.WaitForExitAsync();
        }
        var after = GC.GetTotalAllocatedBytes(precise: true);
        await bare.StopAsync();
        return (after - before) / (double)requests;
    }

    /// <summary>
    /// The reference for a held poll: bare Kestrel in this process holding each poll the leanest way it can, a
    /// <see cref="TaskCompletionSource"/> a request (its task is the request's) in one queue that one timer answers 204
    /// when its <paramref name="wait"/> is over, polled by the same hold-client processes as the server (one connection
    /// an agent, made-up credentials), so that Kestrel's own cost of that many open connections and held requests is in
    /// it. After all wait and one more round, this process's allocation over <paramref name="seconds"/>, per poll
    /// answered. Measured after the server has stopped, so that nothing else runs in this process meanwhile.
    /// </summary>
    private static async Task<(double Polls, double Seconds, double BytesPerPoll, double PoolBytesPerPoll)> HeldBareKestrelBytesPerPollAsync(
        List<Process> clients, int agents, int wait, int seconds, bool requestMetrics = false)
    {
        // What Kestrel's memory pool allocates here, from its own counter (as the server's /metrics exports it); with
        // requestMetrics, ASP.NET Core's hosting and Kestrel meters listened to as well, as Rehome's server does (the
        // measurements themselves dropped).
        long pooled = 0;
        using var pool = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if ((instrument.Meter.Name == "Microsoft.AspNetCore.MemoryPool" && instrument.Name == "aspnetcore.memory_pool.allocated")
                    || (requestMetrics && instrument.Meter.Name is "Microsoft.AspNetCore.Hosting" or "Microsoft.AspNetCore.Server.Kestrel"))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        pool.SetMeasurementEventCallback<long>((instrument, bytes, _, _) =>
        {
            if (instrument.Meter.Name == "Microsoft.AspNetCore.MemoryPool")
            {
                Interlocked.Add(ref pooled, bytes);
            }
        });
        pool.Start();
        var builder = PollsRatioMode.BareBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxConcurrentConnections = null);
        await using var app = builder.Build();
        var prefix = AgentProtocol.AuthorizationScheme + " ";
        var holdFor = (long)(wait * Stopwatch.Frequency);
        // A queue that grows once and is then reused (every poll waits as long, so the first due is the oldest).
        var held = new Queue<(long Due, HttpContext Http, TaskCompletionSource Done)>(agents);
        long answered = 0;
        app.MapPost("/agent/v1/poll", context =>
        {
            if (context.Request.Headers.Authorization is not [{ } header] || !header.StartsWith(prefix, StringComparison.Ordinal))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return Task.CompletedTask;
            }
            // Its continuation (Kestrel's) on the thread pool, as Rehome's waiter does: the timer does not answer them one by one.
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (held)
            {
                held.Enqueue((Stopwatch.GetTimestamp() + holdFor, context, done));
            }
            return done.Task;
        });
        using var sweep = new Timer(_ =>
        {
            var now = Stopwatch.GetTimestamp();
            while (true)
            {
                (long Due, HttpContext Http, TaskCompletionSource Done) next;
                lock (held)
                {
                    if (!held.TryPeek(out next) || next.Due > now)
                    {
                        return;
                    }
                    held.Dequeue();
                }
                next.Http.Response.StatusCode = StatusCodes.Status204NoContent;
                Interlocked.Increment(ref answered);
                next.Done.SetResult();
            }
        }, null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250));
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        try
        {
            await HoldMode.StartClientsAsync(clients, agents, address, HoldMode.NoEnrollment, "http1", wait);
            var holding = Stopwatch.StartNew();
            while (Waiting() < agents && holding.Elapsed < TimeSpan.FromSeconds(120))
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
            await Task.Delay(TimeSpan.FromSeconds(wait + 5));
            var (polls0, pool0, allocated0) = (Interlocked.Read(ref answered), Interlocked.Read(ref pooled), GC.GetTotalAllocatedBytes(precise: true));
            var window = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(seconds));
            var (polls1, pool1, allocated1) = (Interlocked.Read(ref answered), Interlocked.Read(ref pooled), GC.GetTotalAllocatedBytes(precise: true));
            var polls = (double)(polls1 - polls0);
            return (polls, window.Elapsed.TotalSeconds, (allocated1 - allocated0) / Math.Max(1, polls), (pool1 - pool0) / Math.Max(1, polls));
        }
        finally
        {
            await HoldMode.StopClientsAsync(clients);
            clients.Clear();
            await app.StopAsync();
        }

        int Waiting()
        {
            lock (held)
            {
                return held.Count;
            }
        }
    }

    /// <summary>The bare endpoint's client: that many polls with an agent's header, 64 at a time on kept-alive connections.</summary>
    public static async Task BareClientAsync(Uri address, int requests)
    {
        using var http = Fleet.Client(address);
        const string credential = "rha_bare0000000000000000000000000000000000000000";
        await Parallel.ForAsync(0, requests, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (_, ct) =>
        {
            using var request = Fleet.Poll(http, credential, 0);
            using var response = await http.SendAsync(request, ct);
        });
    }

    /// <summary>The server's bytes allocated since it started (System.Runtime's counter, exported on /metrics).</summary>
    private static Task<double> Allocated(ServerProcess server, HttpClient metrics) => server.MetricAsync(metrics, "dotnet_gc_heap_total_allocated_bytes_total");

    private static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:N0} MiB");
}
