using Rehome.Agent.Platform.Simulated;

namespace Rehome.Cli.Rehearsal;

/// <summary>
/// The agents of a rehearsal's laid-out fleet, running in this process or spread over <see cref="FleetProcess"/>es
/// (a slice of the devices each, at a lower CPU priority): with thousands of devices the server, in this process,
/// then keeps its cores while the devices work, and its own CPU time is measured apart from theirs.
/// </summary>
public sealed class RehearsalAgents : IAsyncDisposable
{
    private readonly SimulatedFleet fleet;
    private readonly List<FleetProcess> processes = [];
    private TimeSpan stoppedProcessorTime;

    private RehearsalAgents(SimulatedFleet fleet) => this.fleet = fleet;

    /// <summary>Whether the devices' agents run in processes of their own (else in this one, beside the server).</summary>
    public bool InOwnProcesses { get; private init; }

    /// <summary>
    /// Starts every device's agent: in this process when <paramref name="processCount"/> is 0, else in that many
    /// processes talking to <paramref name="server"/>, each allowed <paramref name="maxConnections"/> connections.
    /// </summary>
    public static RehearsalAgents Start(SimulatedFleet fleet, int processCount, Uri server, string configurationKey, int pollSeconds, int maxConnections)
    {
        var agents = new RehearsalAgents(fleet) { InOwnProcesses = processCount > 0 };
        if (processCount <= 0)
        {
            fleet.StartAll();
            return agents;
        }
        var count = fleet.Devices.Count;
        for (var k = 0; k < processCount; k++)
        {
            var (from, to) = (k * count / processCount, (k + 1) * count / processCount);
            agents.processes.Add(FleetProcess.Start(new FleetSpec
            {
                Servers = [server],
                Root = fleet.Root,
                ConfigurationKey = configurationKey,
                Devices = [.. fleet.Devices.Skip(from).Take(to - from).Select(d => d.Name)],
                FirstIndex = from,
                PollSeconds = pollSeconds,
                MaxConnections = maxConnections,
            }, $"fleet-{k + 1}"));
        }
        return agents;
    }

    /// <summary>Every device's agent as it is now, in the fleet's order.</summary>
    public async Task<IReadOnlyList<FleetDeviceReport>> ReportAsync(CancellationToken ct)
    {
        if (!InOwnProcesses)
        {
            return [.. fleet.Devices.Select(FleetHost.Report)];
        }
        var reports = await Task.WhenAll(processes.Select(p => p.SnapshotAsync(ct)));
        return [.. reports.SelectMany(r => r.Devices!)];
    }

    /// <summary>The CPU time the fleet's processes have used so far (zero when the agents run in this process).</summary>
    public TimeSpan ProcessorTime => processes.Aggregate(stoppedProcessorTime, (sum, p) => sum + p.ProcessorTime);

    /// <summary>Stops every agent (once, however often it is called).</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var process in processes)
        {
            await process.StopAsync();
            stoppedProcessorTime += process.ProcessorTime;
            await process.DisposeAsync();
        }
        processes.Clear();
        await fleet.DisposeAsync();
    }
}
