using System.Diagnostics;
using System.Globalization;
using Rehome.Cli.Rehearsal;
using Rehome.Core.Runs;

namespace Rehome.Agents.Bench;

/// <summary>
/// polls: idle polls per second the gateway answers with that many agents enrolled and waiting. The agents' side
/// runs in a child process (polls-client): 10,000 connections on each side do not fit one process's file
/// descriptor limit here (20,000).
/// </summary>
public static class PollsMode
{
    public static async Task RunAsync(string root, int agents, int seconds)
    {
        var (app, address, api) = await InProcessServer.StartAsync(root, agents);
        var scenario = new RehearsalScenario(api, root, new RehearsalOptions { Devices = agents, Jobs = [JobKind.MigrateEntraIdGroups] });
        await scenario.SetUpAsync(CancellationToken.None);
        using var client = Process.Start(Children.StartInfo(
            "polls-client", agents.ToString(CultureInfo.InvariantCulture), address.ToString(), scenario.ConfigurationKey, seconds.ToString(CultureInfo.InvariantCulture)))!;
        await client.WaitForExitAsync();
        await app.StopAsync();
        await app.DisposeAsync();
    }

    public static async Task ClientAsync(Uri address, string configurationKey, int agents, int seconds)
    {
        using var http = Fleet.Client(address);
        var credentials = await Fleet.EnrollAsync(http, configurationKey, 0, agents);

        // Every agent holds a long poll open, as idle agents do.
        using var stopIdle = new CancellationTokenSource();
        var waiting = 0;
        var idle = Enumerable.Range(0, agents).Select(i => Task.Run(async () =>
        {
            while (!stopIdle.IsCancellationRequested)
            {
                try
                {
                    using var request = Fleet.Poll(http, credentials[i], 55);
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
        await Fleet.WaitAsync(() => Task.FromResult(Volatile.Read(ref waiting) >= agents), "every agent to wait in its poll");
        await Task.Delay(TimeSpan.FromSeconds(2));

        // Then short polls, as fast as 64 connections go, with the agents' credentials in turn.
        var (rate, elapsed, failures) = await ShortPollsAsync(http, credentials, TimeSpan.FromSeconds(seconds));
        Console.WriteLine($"idle polls answered with {agents:N0} agents waiting in long polls: {rate:N0}/s over {elapsed.TotalSeconds:F1} s ({failures} failed)");
        await stopIdle.CancelAsync();
        await Task.WhenAll(idle);
    }

    /// <summary>
    /// <c>wait=0</c> polls as fast as 64 connections go for <paramref name="time"/>, with the credentials in turn:
    /// the polls per second answered with a success status, the time measured, and how many failed.
    /// </summary>
    public static async Task<(double Rate, TimeSpan Elapsed, long Failures)> ShortPollsAsync(HttpClient http, string[] credentials, TimeSpan time)
    {
        const int connections = 64;
        var count = 0L;
        var failures = 0L;
        using var stop = new CancellationTokenSource(time);
        var measured = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(w => Task.Run(async () =>
        {
            var i = w;
            while (!stop.IsCancellationRequested)
            {
                using var request = Fleet.Poll(http, credentials[i % credentials.Length], 0);
                using var response = await http.SendAsync(request);
                Interlocked.Increment(ref response.IsSuccessStatusCode ? ref count : ref failures);
                i += connections;
            }
        })));
        return (count / measured.Elapsed.TotalSeconds, measured.Elapsed, failures);
    }
}
