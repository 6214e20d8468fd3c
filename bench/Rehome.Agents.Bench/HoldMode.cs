using System.Diagnostics;
using System.Globalization;
using System.Net;
using Rehome.Cli.Client;
using Rehome.Cli.Rehearsal;
using Rehome.Core.Runs;

namespace Rehome.Agents.Bench;

/// <summary>
/// hold: that many enrolled agents each holding a long poll on ONE server process (SQLite), and the server's memory
/// once they all wait. The fleet runs in child processes of 10,000 agents (hold-client), each from a loopback source
/// address of its own (127.0.0.2, .3, …) so that no address runs out of its ~28,000 ephemeral ports. Over HTTP/1.1
/// every poll is a connection of its own (a file descriptor in the server); over HTTP/2 up to 100 polls share one.
/// The count of waiting polls is the server's own: ASP.NET Core's active-request gauge, read at /metrics.
/// </summary>
public static class HoldMode
{
    private const int AgentsPerProcess = 10_000;

    /// <summary>The configuration key that tells hold-client to poll with made-up credentials, enrolling nothing.</summary>
    internal const string NoEnrollment = "-";

    public static async Task RunAsync(string root, int agents, bool http2)
    {
        var port = ServerProcess.FreePort();
        var settings = ServerProcess.FleetSettings(root);
        var fleetAddress = new Uri($"http://127.0.0.1:{port}");
        if (http2)
        {
            // Cleartext HTTP/2 needs an endpoint that speaks nothing else; the API stays on HTTP/1.1.
            var h2 = ServerProcess.FreePort();
            settings["Kestrel:Endpoints:Api:Url"] = $"http://127.0.0.1:{port}";
            settings["Kestrel:Endpoints:Fleet:Url"] = $"http://127.0.0.1:{h2}";
            settings["Kestrel:Endpoints:Fleet:Protocols"] = "Http2";
            fleetAddress = new Uri($"http://127.0.0.1:{h2}");
        }
        await using var server = await ServerProcess.StartAsync("server", Path.Combine(root, "logs"), settings, $"http://127.0.0.1:{port}");
        using var metrics = new HttpClient { Timeout = TimeSpan.FromMinutes(1) };
        Console.WriteLine($"server pid {server.Pid} ({(http2 ? "fleet over HTTP/2 at " + fleetAddress : "fleet over HTTP/1.1, one connection a poll")}); " +
            $"open file limit {RlimitNoFile()}; started: {Memory(server)}");

        using var api = new RehomeApiClient(server.Address, await server.SignInAsync());
        var setUp = Stopwatch.StartNew();
        var scenario = new RehearsalScenario(api, root, new RehearsalOptions { Devices = agents, Jobs = [JobKind.MigrateEntraIdGroups] });
        await scenario.SetUpAsync(CancellationToken.None);
        Console.WriteLine($"project of {agents:N0} mappings set up in {setUp.Elapsed.TotalSeconds:F1} s; {Memory(server)}");

        var clients = new List<Process>();
        try
        {
            var (processes, enrollment) = await StartClientsAsync(clients, agents, fleetAddress, scenario.ConfigurationKey, http2 ? "http2" : "http1");
            Console.WriteLine($"{agents:N0} agents enrolled in {enrollment.TotalSeconds:F1} s ({agents / enrollment.TotalSeconds:F0}/s, {processes} processes × 16 at a time, signed enrollments over HTTP); {Memory(server)}");

            // Waiting polls as the server counts them: its POST requests in progress (every POST now is a poll).
            var waiting = 0.0;
            var best = 0.0;
            var bestAt = Stopwatch.StartNew();
            var holding = Stopwatch.StartNew();
            var round = 0;
            while (waiting < agents && bestAt.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                waiting = await server.MetricAsync(metrics, "http_server_active_requests", "http_request_method=\"POST\"");
                if (waiting > best)
                {
                    (best, bestAt) = (waiting, Stopwatch.StartNew());
                }
                if (++round % 10 == 0)
                {
                    Console.WriteLine($"  {holding.Elapsed.TotalSeconds:F0} s: {waiting:N0} polls waiting; {Memory(server)}; {server.OpenFiles():N0} open files");
                }
            }
            Console.WriteLine(waiting >= agents
                ? $"all {agents:N0} polls waiting {holding.Elapsed.TotalSeconds:F0} s after the last enrollment"
                : $"only {waiting:N0} of {agents:N0} polls waiting (no more for 60 s): see the clients' failures above and {server.LogFile}");
            // A few seconds more for the allocation of the last polls to settle, then the figures.
            await Task.Delay(TimeSpan.FromSeconds(5));
            waiting = await server.MetricAsync(metrics, "http_server_active_requests", "http_request_method=\"POST\"");
            var connections = await server.MetricAsync(metrics, "kestrel_active_connections");
            var heap = await server.MetricAsync(metrics, "dotnet_gc_last_collection_heap_size_bytes");
            var committed = await server.MetricAsync(metrics, "dotnet_gc_last_collection_memory_committed_size_bytes");
            var rss = server.ResidentBytes();
            Console.WriteLine($"held: {waiting:N0} polls waiting on {connections:N0} connections ({server.OpenFiles():N0} open files in the server)");
            Console.WriteLine($"server memory: working set (VmRSS) {Mib(rss)}, GC heap at the last collection {Mib((long)heap)} (committed {Mib((long)committed)}); " +
                $"goal < 2 GB: {(rss < 2L << 30 ? "met" : "NOT met")}, {Mib((2L << 30) - rss)} to spare");
        }
        finally
        {
            await StopClientsAsync(clients);
        }
    }

    /// <summary>Ends the hold-client processes still running.</summary>
    internal static async Task StopClientsAsync(List<Process> clients)
    {
        foreach (var client in clients)
        {
            if (!client.HasExited)
            {
                client.Kill();
                await client.WaitForExitAsync();
            }
            client.Dispose();
        }
    }

    /// <summary>
    /// Starts the hold-client processes for <paramref name="agents"/> agents (10,000 a process, each from its own
    /// loopback address) into <paramref name="clients"/>, and returns once every process says its agents enrolled.
    /// </summary>
    internal static async Task<(int Processes, TimeSpan Enrollment)> StartClientsAsync(
        List<Process> clients, int agents, Uri address, string configurationKey, string protocol, int wait = 55)
    {
        var enrolling = Stopwatch.StartNew();
        var enrolled = 0;
        var enrolledAll = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var processes = (agents + AgentsPerProcess - 1) / AgentsPerProcess;
        for (var k = 0; k < processes; k++)
        {
            var first = k * AgentsPerProcess;
            var count = Math.Min(AgentsPerProcess, agents - first);
            var start = Children.StartInfo("hold-client", count.ToString(CultureInfo.InvariantCulture), address.ToString(), configurationKey,
                first.ToString(CultureInfo.InvariantCulture), $"127.0.0.{k + 2}", protocol, wait.ToString(CultureInfo.InvariantCulture));
            start.RedirectStandardInput = true;
            start.RedirectStandardOutput = true;
            var client = Process.Start(start)!;
            clients.Add(client);
            var name = $"client {k + 1} (127.0.0.{k + 2})";
            client.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null)
                {
                    return;
                }
                Console.WriteLine($"  {name}: {e.Data}");
                if (e.Data.StartsWith("enrolled", StringComparison.Ordinal) && Interlocked.Increment(ref enrolled) == processes)
                {
                    enrolledAll.TrySetResult(enrolling.Elapsed);
                }
            };
            client.EnableRaisingEvents = true;
            client.Exited += (_, _) => enrolledAll.TrySetException(new InvalidOperationException($"{name} ended before all had enrolled"));
            client.BeginOutputReadLine();
        }
        return (processes, await enrolledAll.Task.WaitAsync(TimeSpan.FromMinutes(30)));
    }


    /// <summary>One process of the fleet: enrolls its agents from its own source address, then holds a long poll of <paramref name="wait"/> seconds for each until stopped.</summary>
    public static async Task ClientAsync(Uri address, string configurationKey, int first, int count, IPAddress source, bool http2, int wait = 55)
    {
        // The parent holds our standard input: when it ends (the parent stopped or died), so do we.
        _ = Task.Run(() =>
        {
            Console.In.ReadToEnd();
            Environment.Exit(0);
        });
        using var http = Fleet.Client(address, source, http2);
        var clock = Stopwatch.StartNew();
        // "-": no enrollment, for a server that only looks at the header's shape (memory's held bare Kestrel).
        var credentials = configurationKey == NoEnrollment
            ? [.. Enumerable.Range(first, count).Select(i => $"rha_bare{i:D40}")]
            : await Fleet.EnrollAsync(http, configurationKey, first, count, quiet: true);
        Console.WriteLine($"enrolled {count:N0} in {clock.Elapsed.TotalSeconds:F1} s");
        var failures = 0L;
        var reasons = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        foreach (var credential in credentials)
        {
            _ = Task.Run(async () =>
            {
                while (true)
                {
                    try
                    {
                        using var request = Fleet.Poll(http, credential, wait);
                        using var response = await http.SendAsync(request);
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                    {
                        // The server refused or dropped the connection (file descriptors, ports): try again, as agents do.
                        Interlocked.Increment(ref failures);
                        reasons.AddOrUpdate(e.GetBaseException().Message, 1, (_, n) => n + 1);
                        await Task.Delay(TimeSpan.FromSeconds(5));
                    }
                }
            });
        }
        while (true)
        {
            await Task.Delay(TimeSpan.FromSeconds(10));
            if (Interlocked.Read(ref failures) is > 0 and var failed)
            {
                Console.WriteLine($"{failed:N0} polls failed so far: {string.Join("; ", reasons.OrderByDescending(r => r.Value).Take(3).Select(r => $"{r.Value} × {r.Key}"))}");
            }
        }
    }

    private static string Memory(ServerProcess server) => $"server working set {Mib(server.ResidentBytes())}";

    private static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:N0} MiB");

    private static string RlimitNoFile() =>
        File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal)) is { } line
            ? string.Join('/', line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3..5])
            : "unknown";
}
