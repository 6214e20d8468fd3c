using System.Diagnostics;
using System.Net;
using Rehome.Cli.Rehearsal;
using Rehome.Core.Runs;

namespace Rehome.Agents.Bench;

/// <summary>
/// pickup: OK → the agent's first step, over real HTTP, with every agent long-polling one in-process server.
/// Light agents: enrolled over HTTP, each waiting in its long poll, recording when its poll brings a job and doing
/// nothing more, so the figure is the server's and the network's, not 1,000 devices' work sharing two cores.
/// </summary>
public static class PickupMode
{
    public static async Task RunAsync(string root, int agents)
    {
        var (app, address, api) = await InProcessServer.StartAsync(root, agents);
        var scenario = new RehearsalScenario(api, root, new RehearsalOptions { Devices = agents, Jobs = [JobKind.MigrateEntraIdGroups] });
        await scenario.SetUpAsync(CancellationToken.None);
        using var http = Fleet.Client(address);
        var credentials = await Fleet.EnrollAsync(http, scenario.ConfigurationKey, 0, agents);
        var pickups = new Pickups(agents);
        var pollers = Enumerable.Range(0, agents).Select(i => pickups.PollUntilJobAsync(http, credentials[i], i)).ToList();
        var (ok, answered) = await pickups.StartWhenAllWaitAsync(() => scenario.StartRunAsync(CancellationToken.None));
        await Task.WhenAll(pollers);
        Console.WriteLine($"OK answered in {answered.TotalMilliseconds:F0} ms; pickup (OK → the agent holds its job) over {agents:N0} agents: " +
            Fleet.Spread(pickups.Since(ok, Enumerable.Range(0, agents))));
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

/// <summary>Light agents that each hold a long poll until it brings a job, and record when it did.</summary>
public sealed class Pickups(int agents)
{
    private readonly long[] received = new long[agents];
    private int waiting;

    public async Task PollUntilJobAsync(HttpClient http, string credential, int agent)
    {
        await Task.Yield();
        while (true)
        {
            using var request = Fleet.Poll(http, credential, 55);
            Interlocked.Increment(ref waiting);
            using var response = await http.SendAsync(request);
            Interlocked.Decrement(ref waiting);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                received[agent] = Stopwatch.GetTimestamp();
                return;
            }
        }
    }

    /// <summary>Once every agent waits (and two seconds more), presses OK; returns when, and how long OK took to answer.</summary>
    public async Task<(long Ok, TimeSpan Answered)> StartWhenAllWaitAsync(Func<Task> pressOk)
    {
        await Fleet.WaitAsync(() => Task.FromResult(Volatile.Read(ref waiting) == agents), "every agent to wait in its poll");
        await Task.Delay(TimeSpan.FromSeconds(2));
        var ok = Stopwatch.GetTimestamp();
        await pressOk();
        return (ok, Stopwatch.GetElapsedTime(ok));
    }

    /// <summary>Milliseconds from <paramref name="ok"/> to each of these agents' job.</summary>
    public IEnumerable<double> Since(long ok, IEnumerable<int> which) => which.Select(i => Stopwatch.GetElapsedTime(ok, received[i]).TotalMilliseconds);
}
