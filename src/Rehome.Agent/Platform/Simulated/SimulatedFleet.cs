using System.Collections.Concurrent;
using System.Diagnostics;
using Rehome.Agent.Polling;
using Rehome.Protocol;

namespace Rehome.Agent.Platform.Simulated;

/// <summary>One simulated device of a fleet and what happened to its agent.</summary>
public sealed class FleetDevice(string name, string deviceFolder, string stateFolder)
{
    private int restarts;
    private int crashes;

    public string Name { get; } = name;

    public string DeviceFolder { get; } = deviceFolder;

    public string StateFolder { get; } = stateFolder;

    public NetworkGate Network { get; internal set; } = null!;

    /// <summary>Which of the fleet's servers the device talks to (the next one after its own failed, with failover).</summary>
    public ServerChoice Servers { get; internal set; } = null!;

    public int Restarts => Volatile.Read(ref restarts);

    public int Crashes => Volatile.Read(ref crashes);

    public AgentExit? Exit { get; internal set; }

    public Exception? Error { get; internal set; }

    public SimulatedDeviceState State => new SimulatedDeviceStateFile(DeviceFolder).Read();

    internal void Count(AgentExit exit)
    {
        if (exit == AgentExit.Restarted)
        {
            Interlocked.Increment(ref restarts);
        }
        else if (exit == AgentExit.Crashed)
        {
            Interlocked.Increment(ref crashes);
        }
    }
}

/// <summary>
/// Many simulated devices, each with a real agent talking to the server over real HTTP, in one process: the
/// rehearsal, the end-to-end tests and the load benchmarks run on it. An agent that "restarts" (or crashes)
/// ends and a fresh one starts on the same folders, as after a reboot. With several servers (replicas on one
/// store) the devices are spread over them in turn.
/// </summary>
public sealed class SimulatedFleet : IAsyncDisposable
{
    private readonly IReadOnlyList<Uri> servers;
    private readonly string configurationKey;
    private readonly ILoggerFactory loggers;
    private readonly TimeProvider time;
    private readonly SocketsHttpHandler sharedHandler = new()
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(10),
        MaxConnectionsPerServer = int.MaxValue,
    };
    private readonly ConcurrentDictionary<string, (FleetDevice Device, CancellationTokenSource Stop, Task Task)> running = new(StringComparer.OrdinalIgnoreCase);

    public SimulatedFleet(Uri server, string root, string configurationKey, ILoggerFactory loggers, TimeProvider? time = null)
        : this([server], root, configurationKey, loggers, time)
    {
    }

    /// <summary>A fleet whose i-th device (from 0) talks to <c>servers[i % servers.Count]</c>.</summary>
    public SimulatedFleet(IReadOnlyList<Uri> servers, string root, string configurationKey, ILoggerFactory loggers, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfZero(servers.Count);
        this.servers = servers;
        Root = root;
        this.configurationKey = configurationKey;
        this.loggers = loggers;
        this.time = time ?? TimeProvider.System;
        Directory.CreateDirectory(root);
    }

    public string Root { get; }

    /// <summary>
    /// Connections the whole fleet may open to the server (each device would have its own; in one process the
    /// file descriptor limit counts them all). Polls beyond it queue for a connection.
    /// </summary>
    public int MaxConnections
    {
        get => sharedHandler.MaxConnectionsPerServer;
        init => sharedHandler.MaxConnectionsPerServer = value;
    }

    /// <summary>
    /// With several servers: a device whose server refuses connections goes on with the next one, as behind a
    /// load balancer that leaves a dead replica out. Without it a device waits for its own server.
    /// </summary>
    public bool Failover { get; init; }

    /// <summary>The publisher key (PEM) the fleet's agents check packages against; none: they never update.</summary>
    public string? UpdatePublisherKey { get; init; }

    /// <summary>How often an idle agent asks which version to run, and how long a new version has to check in.</summary>
    public int UpdateCheckSeconds { get; init; } = 900;

    public int UpdateCheckInSeconds { get; init; } = 300;

    /// <summary>Seconds each poll waits at the server.</summary>
    public int PollSeconds { get; init; } = 25;

    public List<FleetDevice> Devices { get; } = [];

    /// <summary>Called (on the agent's thread) with the device and the assignment when an agent starts a job.</summary>
    public Action<FleetDevice, JobAssignment>? JobStarted { get; set; }

    /// <summary>
    /// The index of this fleet's first device in the whole fleet, when it is one part of a fleet spread over
    /// processes: a device talks to <c>servers[(FirstIndex + i) % servers.Count]</c> whichever process runs it.
    /// </summary>
    public int FirstIndex { get; init; }

    /// <summary>Lays out a device in its folder and adds it (not started).</summary>
    public FleetDevice Add(SimulatedDeviceSpec spec)
    {
        SimulatedDeviceBuilder.Create(DeviceFolderOf(Root, spec.DeviceName), spec);
        return Attach(spec.DeviceName);
    }

    /// <summary>Adds a device already laid out under <see cref="Root"/> (by another process's <see cref="Add"/>), not started.</summary>
    public FleetDevice Attach(string deviceName)
    {
        var folder = Path.Combine(Root, deviceName);
        var device = new FleetDevice(deviceName, DeviceFolderOf(Root, deviceName), Path.Combine(folder, "agent")) { Network = new NetworkGate(sharedHandler) };
        lock (Devices)
        {
            device.Servers = new ServerChoice(servers, FirstIndex + Devices.Count, Failover, device.Network);
            Devices.Add(device);
        }
        return device;
    }

    /// <summary>
    /// Where a large fleet's devices are best laid out: in memory (/dev/shm) where the machine has it, else
    /// <paramref name="onDisk"/>. Every journal write of a device replaces a file by rename, which ext4 makes wait for
    /// the disk; two thousand devices on one disk blocked the fleet's threads (dotnet-stack: 33 of 42 in rename), their
    /// lease renewals came late and leases lapsed: the fleet measured the machine's disk, where each real device has
    /// its own. Only the devices go there, never a server's store.
    /// </summary>
    public static string DevicesFolder(string onDisk, string name) =>
        Directory.Exists("/dev/shm") ? Path.Combine("/dev/shm", name, "devices") : onDisk;

    /// <summary>The simulated device's own folder (its state, files and registry) for a fleet laid out under <paramref name="root"/>.</summary>
    public static string DeviceFolderOf(string root, string deviceName) => Path.Combine(root, deviceName, "device");

    public void StartAll()
    {
        foreach (var device in Devices)
        {
            Start(device);
        }
    }

    /// <summary>Starts the device's agent (again): a service start after a power-on.</summary>
    public void Start(FleetDevice device)
    {
        var stop = new CancellationTokenSource();
        var task = Task.Run(() => RunAsync(device, stop.Token));
        running[device.Name] = (device, stop, task);
    }

    /// <summary>Stops the device's agent, as a power-off would (nothing is flushed that was not already).</summary>
    public async Task StopAsync(FleetDevice device)
    {
        if (running.TryRemove(device.Name, out var entry))
        {
            await entry.Stop.CancelAsync();
            await entry.Task;
            entry.Stop.Dispose();
        }
    }

    private async Task RunAsync(FleetDevice device, CancellationToken ct)
    {
        var logger = loggers.CreateLogger("Rehome.Agent." + device.Name);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var exit = await AgentSupervisor.RunOnceAsync(CreateRuntime(device), logger, ct);
                device.Count(exit);
                device.Exit = exit;
                if (exit is AgentExit.Stopped or AgentExit.Refused)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            device.Error = e;
            logger.LogError(e, "The agent of {Device} ended with an error", device.Name);
        }
    }

    private AgentRuntime CreateRuntime(FleetDevice device)
    {
        var platform = new SimulatedDevicePlatform(device.DeviceFolder, device.Network, time);
        var http = new HttpClient(device.Servers, disposeHandler: false) { BaseAddress = device.Servers.Server, Timeout = TimeSpan.FromSeconds(PollSeconds + 30) };
        var options = new AgentOptions
        {
            ServerUrl = device.Servers.Server.ToString(),
            ConfigurationKey = configurationKey,
            StateFolder = device.StateFolder,
            PollSeconds = PollSeconds,
            UpdatePublisherKey = UpdatePublisherKey,
            UpdateCheckSeconds = UpdateCheckSeconds,
            UpdateCheckInSeconds = UpdateCheckInSeconds,
        };
        var logger = loggers.CreateLogger("Rehome.Agent." + device.Name);
        return new AgentRuntime(options, platform, platform.Session, platform, new GatewayClient(http), time, logger)
        {
            JobStarted = assignment => JobStarted?.Invoke(device, assignment),
            Removal = new SimulatedAgentRemoval(device.DeviceFolder, time),
            Installation = new SimulatedAgentInstallation(device.DeviceFolder, time, logger),
        };
    }

    /// <summary>Waits until <paramref name="condition"/> holds, or throws after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:F0} s waiting for {what}.");
            }
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (device, _, _) in running.Values.ToList())
        {
            await StopAsync(device);
        }
        sharedHandler.Dispose();
    }
}
