using System.Text.Json;
using Microsoft.Extensions.Logging;
using Rehome.Agent.Platform.Simulated;

namespace Rehome.Cli.Rehearsal;

/// <summary>What a fleet process runs: devices already laid out under <see cref="Root"/>, and where their agents go.</summary>
public sealed record FleetSpec
{
    public required IReadOnlyList<Uri> Servers { get; init; }

    /// <summary>The fleet's folder (the devices' folders are laid out in it by the parent, see <see cref="SimulatedFleet.Add"/>).</summary>
    public required string Root { get; init; }

    public required string ConfigurationKey { get; init; }

    /// <summary>The devices this process runs, in the whole fleet's order from <see cref="FirstIndex"/>.</summary>
    public required IReadOnlyList<string> Devices { get; init; }

    public int FirstIndex { get; init; }

    public int PollSeconds { get; init; } = 25;

    public bool Failover { get; init; }

    public int MaxConnections { get; init; } = int.MaxValue;
}

/// <summary>One device as its fleet process saw it.</summary>
public sealed record FleetDeviceReport(string Name, Uri Server, int Requests, int Polls, int Restarts, int Crashes, string? Exit, string? Error);

/// <summary>
/// A line a fleet process writes: how many jobs its agents began and how many agents are past their first poll;
/// with every device when asked (<c>snapshot</c>) and when it stops.
/// </summary>
public sealed record FleetReport(int JobsStarted, int PolledTwice, IReadOnlyList<FleetDeviceReport>? Devices = null);

/// <summary>
/// The child side of <see cref="FleetProcess"/> (<c>rehome fleet-host SPEC</c>, started by the rehearsal and the fault
/// tests, never by people): runs the agents of the spec's devices, writes a <see cref="FleetReport"/> line on standard
/// output every fifth of a second, one with every device on <c>snapshot</c>, and stops its agents on <c>stop</c> or
/// when its parent goes (standard input closes), with a last report.
/// </summary>
public static class FleetHost
{
    public const string Verb = "fleet-host";

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);

    private static readonly TimeSpan StatusInterval = TimeSpan.FromMilliseconds(200);

    public static async Task<int> RunAsync(string specFile, CancellationToken ct)
    {
        var spec = JsonSerializer.Deserialize<FleetSpec>(await File.ReadAllTextAsync(specFile, ct), Json)
            ?? throw new InvalidDataException($"No fleet in {specFile}.");
        var jobsStarted = 0;
        // The agents' errors (a runtime that failed and starts again from its journal, say) go to this process's standard
        // error, which the rehearsal's own shares: standard output carries the fleet's reports.
        using var errors = LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Error)
            .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace)
            .AddSimpleConsole(format => format.SingleLine = true));
        var fleet = new SimulatedFleet(spec.Servers, spec.Root, spec.ConfigurationKey, errors)
        {
            PollSeconds = spec.PollSeconds,
            Failover = spec.Failover,
            FirstIndex = spec.FirstIndex,
            MaxConnections = spec.MaxConnections,
            JobStarted = (_, _) => Interlocked.Increment(ref jobsStarted),
        };
        foreach (var name in spec.Devices)
        {
            fleet.Attach(name);
        }
        var output = Console.Out;
        var gate = new Lock();
        void Write(bool devices)
        {
            var report = new FleetReport(Volatile.Read(ref jobsStarted), fleet.Devices.Count(d => d.Servers.Polls >= 2),
                devices ? [.. fleet.Devices.Select(Report)] : null);
            lock (gate)
            {
                output.WriteLine(JsonSerializer.Serialize(report, Json));
                output.Flush();
            }
        }
        fleet.StartAll();
        // The reports and the commands have threads of their own: thousands of agents keep the thread pool's queue
        // long in a process that gives way to the server, and reports queued behind them came minutes late (a fault
        // test's "half the jobs begun" was heard with nearly all of them begun).
        using var stopping = new CancellationTokenSource();
        var stopAsked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var status = new Thread(() =>
        {
            do
            {
                Write(devices: false);
            }
            while (!stopping.Token.WaitHandle.WaitOne(StatusInterval));
        })
        {
            IsBackground = true,
            Name = "fleet status",
        };
        var commands = new Thread(() =>
        {
            while (Console.In.ReadLine() is { } command && command != "stop")
            {
                if (command == "snapshot")
                {
                    Write(devices: true);
                }
            }
            stopAsked.TrySetResult();
        })
        {
            IsBackground = true,
            Name = "fleet commands",
        };
        status.Start();
        commands.Start();
        // Stopped by the parent ("stop", or its end closing standard input), or from outside (Ctrl+C).
        await Task.WhenAny(stopAsked.Task, Task.Delay(Timeout.Infinite, ct));
        await stopping.CancelAsync();
        status.Join();
        await fleet.DisposeAsync();
        Write(devices: true);
        return 0;
    }

    /// <summary>What a fleet process says of one of its devices.</summary>
    public static FleetDeviceReport Report(FleetDevice device) => new(device.Name, device.Servers.Server, device.Servers.Requests, device.Servers.Polls,
        device.Restarts, device.Crashes, device.Exit?.ToString(), device.Error?.ToString());
}
