using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rehome.Cli.Client;
using Rehome.Cli.Commands;
using Rehome.Cli.Rehearsal;
using Rehome.Core.Runs;
using Rehome.Protocol;
using Rehome.Server.Hosting;
using Spectre.Console;

// Agent gateway benchmarks (issue 4). Each prints figures; nothing here asserts a time.
//   pickup   [agents=1000]       OK → the agent's first step, over real HTTP, with every agent long-polling
//   polls    [agents=10000] [s]  idle polls per second the gateway answers with that many agents enrolled and waiting
//   rehearse [devices=10000]     wall time of `rehome rehearse` through all five jobs
var mode = args.Length > 0 ? args[0] : "pickup";
var number = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : mode == "pickup" ? 1000 : 10_000;
var root = Path.Combine(Path.GetTempPath(), "rehome-agents-bench-" + Guid.NewGuid().ToString("N")[..8]);
Console.WriteLine($"{mode} with {number:N0}; {Environment.ProcessorCount} cores; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; folder {root}");
try
{
    switch (mode)
    {
        case "pickup":
            await PickupAsync(number);
            break;
        case "polls":
            await PollsAsync(number, args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10);
            break;
        case "polls-client":
            // The agents' side of "polls", in its own process: 10,000 connections on each side do not fit one
            // process's file descriptor limit here (20,000).
            await PollsClientAsync(new Uri(args[2]), args[3], number, int.Parse(args[4], CultureInfo.InvariantCulture));
            break;
        case "rehearse":
            var options = new RehearsalOptions
            {
                Devices = number,
                FilesPerUser = 3,
                PollSeconds = 10,
                MaxConnections = Math.Max(100, (RehearseCommand.FileDescriptorLimit() - 6000) / 2),
            };
            var clock = Stopwatch.StartNew();
            var exit = await RehearseCommand.RunAsync(new CliContext(AnsiConsole.Console), options, root, "http://127.0.0.1:0", exitWhenOver: true, CancellationToken.None);
            Console.WriteLine($"rehearsal of {number:N0} devices × 5 jobs: {clock.Elapsed.TotalSeconds:F1} s wall time from launch, exit code {exit}");
            break;
        default:
            Console.Error.WriteLine("Modes: pickup [agents], polls [agents] [seconds], rehearse [devices].");
            return 2;
    }
    return 0;
}
finally
{
    try
    {
        System.IO.Directory.Delete(root, recursive: true);
    }
    catch (IOException)
    {
    }
}

async Task<(WebApplication App, Uri Address, RehomeApiClient Api)> StartServerAsync(int agents)
{
    var builder = RehomeServer.CreateBuilder(
    [
        "--urls=http://127.0.0.1:0",
        $"--Rehome:Store:DataDirectory={Path.Combine(root, "data")}",
        "--Rehome:Store:Provider=Sqlite",
        "--Rehome:Directories:Mode=Simulated",
        "--Rehome:Runs:TickInterval=00:00:00.200",
        $"--Rehome:Gateway:EnrollmentsPerMinute={agents * 2}",
        "--Rehome:Bootstrap:AdminPassword=Bench-Rehome-Passw0rd-2026",
    ]);
    builder.Logging.SetMinimumLevel(LogLevel.Error);
    if (Environment.GetEnvironmentVariable("REHOME_BENCH_TRACE") is not null)
    {
        builder.Logging.AddFilter("Rehome.Server.Gateway.LeaseBatcher", LogLevel.Debug);
    }
    var app = await RehomeServer.BuildAsync(builder);
    await app.StartAsync();
    var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    return (app, address, new RehomeApiClient(address, await DemoCommand.IssueLocalTokenAsync(app, CancellationToken.None)));
}

async Task PickupAsync(int agents)
{
    // Light agents: enrolled over HTTP, each waiting in its long poll, recording when its poll brings a job and
    // doing nothing more, so the figure is the server's and the network's, not 1,000 devices' work sharing two cores.
    var (app, address, api) = await StartServerAsync(agents);
    var scenario = new RehearsalScenario(api, root, new RehearsalOptions { Devices = agents, Jobs = [JobKind.MigrateEntraIdGroups] });
    await scenario.SetUpAsync(CancellationToken.None);
    using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue };
    using var http = new HttpClient(handler) { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
    var credentials = await EnrollAllAsync(http, scenario.ConfigurationKey, agents);
    var received = new long[agents];
    var waiting = 0;
    var pollers = Enumerable.Range(0, agents).Select(i => Task.Run(async () =>
    {
        while (true)
        {
            using var request = Poll(credentials[i], 55);
            Interlocked.Increment(ref waiting);
            using var response = await http.SendAsync(request);
            Interlocked.Decrement(ref waiting);
            if (response.StatusCode == System.Net.HttpStatusCode.OK)
            {
                received[i] = Stopwatch.GetTimestamp();
                return;
            }
        }
    })).ToList();
    await WaitAsync(() => Task.FromResult(Volatile.Read(ref waiting) == agents), "every agent to wait in its poll");
    await Task.Delay(TimeSpan.FromSeconds(2));
    var ok = Stopwatch.GetTimestamp();
    await scenario.StartRunAsync(CancellationToken.None);
    var answered = Stopwatch.GetElapsedTime(ok);
    await Task.WhenAll(pollers);
    var latencies = received.Select(t => Stopwatch.GetElapsedTime(ok, t).TotalMilliseconds).Order().ToArray();
    Console.WriteLine($"OK answered in {answered.TotalMilliseconds:F0} ms; pickup (OK → the agent holds its job) over {agents:N0} agents: " +
        $"p50 {Percentile(latencies, 50):F0} ms, p99 {Percentile(latencies, 99):F0} ms, max {latencies[^1]:F0} ms");
    await app.StopAsync();
    await app.DisposeAsync();
}

static async Task<string[]> EnrollAllAsync(HttpClient http, string configurationKey, int agents)
{
    var clock = Stopwatch.StartNew();
    var credentials = new string[agents];
    await Parallel.ForAsync(0, agents, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
    {
        // Each simulated device proves a key of its own, as agents do.
        using var deviceKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var facts = new DeviceFacts { DeviceName = RehearsalScenario.DeviceName(i + 1), OsVersion = "bench", AgentVersion = "bench" };
        var response = await http.PostAsJsonAsync("/agent/v1/enroll",
            EnrollRequest.Signed(configurationKey, facts, deviceKey, $"BENCH-{i + 1}", DateTimeOffset.UtcNow), AgentProtocol.JsonOptions, ct);
        response.EnsureSuccessStatusCode();
        credentials[i] = (await response.Content.ReadFromJsonAsync<EnrollResponse>(AgentProtocol.JsonOptions, ct))!.Credential
            ?? throw new InvalidOperationException($"The enrollment of {facts.DeviceName} was held for approval.");
    });
    Console.WriteLine($"{agents:N0} agents enrolled in {clock.Elapsed.TotalSeconds:F1} s ({agents / clock.Elapsed.TotalSeconds:F0}/s)");
    return credentials;
}

async Task PollsAsync(int agents, int seconds)
{
    var (app, address, api) = await StartServerAsync(agents);
    var scenario = new RehearsalScenario(api, root, new RehearsalOptions { Devices = agents, Jobs = [JobKind.MigrateEntraIdGroups] });
    await scenario.SetUpAsync(CancellationToken.None);
    using var client = Process.Start(new ProcessStartInfo(Environment.ProcessPath!,
        ["polls-client", agents.ToString(CultureInfo.InvariantCulture), address.ToString(), scenario.ConfigurationKey, seconds.ToString(CultureInfo.InvariantCulture)])
    { UseShellExecute = false })!;
    await client.WaitForExitAsync();
    await app.StopAsync();
    await app.DisposeAsync();
}

static async Task PollsClientAsync(Uri address, string configurationKey, int agents, int seconds)
{
    using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue };
    using var http = new HttpClient(handler) { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
    var credentials = await EnrollAllAsync(http, configurationKey, agents);

    // Every agent holds a long poll open, as idle agents do.
    using var stopIdle = new CancellationTokenSource();
    var waiting = 0;
    var idle = Enumerable.Range(0, agents).Select(i => Task.Run(async () =>
    {
        while (!stopIdle.IsCancellationRequested)
        {
            try
            {
                using var request = Poll(credentials[i], 55);
                Interlocked.Increment(ref waiting);
                using var response = await http.SendAsync(request, stopIdle.Token);
                Interlocked.Decrement(ref waiting);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    })).ToList();
    await WaitAsync(() => Task.FromResult(Volatile.Read(ref waiting) >= agents), "every agent to wait in its poll");
    await Task.Delay(TimeSpan.FromSeconds(2));

    // Then short polls, as fast as 64 connections go, with the agents' credentials in turn.
    var count = 0L;
    var failures = 0L;
    using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
    var measured = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, 64).Select(w => Task.Run(async () =>
    {
        var i = w;
        while (!stop.IsCancellationRequested)
        {
            using var request = Poll(credentials[i % agents], 0);
            using var response = await http.SendAsync(request);
            Interlocked.Increment(ref response.IsSuccessStatusCode ? ref count : ref failures);
            i += 64;
        }
    })));
    var rate = count / measured.Elapsed.TotalSeconds;
    Console.WriteLine($"idle polls answered with {agents:N0} agents waiting in long polls: {rate:N0}/s over {measured.Elapsed.TotalSeconds:F1} s ({failures} failed)");
    await stopIdle.CancelAsync();
    await Task.WhenAll(idle);
}

static HttpRequestMessage Poll(string credential, int wait)
{
    var request = new HttpRequestMessage(HttpMethod.Post, $"/agent/v1/poll?wait={wait}");
    request.Headers.Authorization = new AuthenticationHeaderValue(AgentProtocol.AuthorizationScheme, credential);
    return request;
}

static double Percentile(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

static async Task WaitAsync(Func<Task<bool>> condition, string what)
{
    var clock = Stopwatch.StartNew();
    while (!await condition())
    {
        if (clock.Elapsed > TimeSpan.FromMinutes(10))
        {
            throw new TimeoutException("Timed out waiting for " + what);
        }
        await Task.Delay(100);
    }
}
