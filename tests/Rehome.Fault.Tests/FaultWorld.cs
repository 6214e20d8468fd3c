using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Rehome.Agent.Platform.Simulated;
using Rehome.Cli.Client;
using Rehome.Cli.Rehearsal;
using Rehome.Core.Runs;
using Xunit.Abstractions;

namespace Rehome.Fault.Tests;

/// <summary>
/// Server processes on one PostgreSQL database of the fault cluster, a rehearsal project set up through the first
/// one's API, and a fleet of simulated devices spread over the servers. The fleet's agents run in a process of their own
/// at a lower CPU priority (<see cref="FleetProcess"/>): with thousands of them on the servers' two shared cores, their
/// work waited beside the servers' and the servers renewed leases too late. Every check reads the store (through the
/// API) and the devices (their folders, and what the fleet's process reports), never a log; the servers' output is
/// shown with the test's result.
/// </summary>
public sealed class FaultWorld : IAsyncDisposable
{
    /// <summary>The jobs that make a fault meaningful: leaving a domain must happen once, and a job waits for it.</summary>
    public static readonly JobKind[] Kinds = [JobKind.RejoinDomain, JobKind.MigratePermissions];

    private readonly ITestOutputHelper output;
    private readonly string root;
    private readonly string database;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly List<string> deviceNames = [];
    private FleetProcess? fleet;
    private bool failover;

    private FaultWorld(ITestOutputHelper output, string root, string database, List<ServerProcess> servers)
    {
        this.output = output;
        this.root = root;
        this.database = database;
        Servers = servers;
    }

    public IReadOnlyList<ServerProcess> Servers { get; }

    /// <summary>The API of the first server, as the administrator.</summary>
    public RehomeApiClient Api { get; private set; } = null!;

    public string Token { get; private set; } = "";

    public RehearsalScenario Scenario { get; private set; } = null!;

    public int DeviceCount => deviceNames.Count;

    /// <summary>How many times an agent of the fleet began a job (a resumed one counts again), as the fleet's process last said.</summary>
    public int JobsStarted => fleet?.JobsStarted ?? 0;

    private string DevicesRoot => DevicesFolder(root);

    /// <summary>
    /// In memory where the machine allows (<see cref="SimulatedFleet.DevicesFolder"/>), the logs staying in the root: right
    /// in /dev/shm (sticky) under the test's own random name, as the rehearsal's, never in a shared parent of fixed name.
    /// </summary>
    private static string DevicesFolder(string root) =>
        SimulatedFleet.DevicesFolder(Path.Combine(root, "devices"), "rehome-fault-" + Path.GetFileName(root));

    /// <summary>
    /// Makes the in-memory folder (/dev/shm, which every local user can write) readable by this user alone before any
    /// device's credential is written there (<see cref="RehearsalScenario.PrivateFolder"/>, 0700), and refuses one that
    /// is not: made beforehand by someone else, or left open.
    /// </summary>
    private void CreateDevicesFolderInMemory()
    {
        if (OperatingSystem.IsWindows() || DevicesRoot == Path.Combine(root, "devices"))
        {
            return;
        }
        foreach (var folder in (string[])[Path.GetDirectoryName(DevicesRoot)!, DevicesRoot])
        {
            System.IO.Directory.CreateDirectory(folder, RehearsalScenario.PrivateFolder);
            var mode = File.GetUnixFileMode(folder);
            if (mode != RehearsalScenario.PrivateFolder)
            {
                throw new IOException($"The devices' folder in memory {folder} is open to other users ({mode}).");
            }
        }
    }

    /// <summary>The fleet's size: <c>REHOME_FAULT_DEVICES</c> when set (the documented full runs), else the CI size.</summary>
    public static int Devices(int inCi) =>
        int.TryParse(Environment.GetEnvironmentVariable("REHOME_FAULT_DEVICES"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : inCi;

    public static async Task<FaultWorld> StartAsync(ITestOutputHelper output, int replicas, int devices,
        IReadOnlyDictionary<string, string>? settings = null, bool failover = false)
    {
        var root = Path.Combine(Path.GetTempPath(), "rehome-fault", Guid.NewGuid().ToString("N"));
        var database = await FaultPostgres.CreateDatabaseAsync();
        var world = new FaultWorld(output, root, database, []);
        try
        {
            await world.SetUpAsync(replicas, devices, settings ?? new Dictionary<string, string>(), failover);
            return world;
        }
        catch
        {
            await world.DisposeAsync();
            throw;
        }
    }

    private async Task SetUpAsync(int replicas, int devices, IReadOnlyDictionary<string, string> settings, bool failover)
    {
        var logs = Environment.GetEnvironmentVariable("REHOME_TEST_RUN") is { Length: > 0 } run ? Path.Combine(run, "fault-logs", Path.GetFileName(root)) : Path.Combine(root, "logs");
        for (var i = 0; i < replicas; i++)
        {
            var all = new Dictionary<string, string>
            {
                ["Rehome:Store:Provider"] = "PostgreSql",
                ["Rehome:Store:ConnectionString"] = database,
                ["Rehome:Store:DataDirectory"] = Path.Combine(root, $"server{i + 1}"),
                ["Rehome:Bootstrap:AdminPassword"] = ServerProcess.AdminPassword,
                ["Rehome:Directories:Mode"] = "Simulated",
                ["Rehome:Runs:Background"] = "true",
                ["Rehome:Runs:TickInterval"] = "00:00:00.200",
                // The lease stays the default minute: 15 s leases lapsed again and again under a restart's load of
                // 300 agents on two shared cores (jobs leased up to 5 times, all Finished), which hid the fault's own effect.
                ["Rehome:Gateway:EnrollmentsPerMinute"] = "1000000",
                ["Rehome:Auth:SignInsPerMinute"] = "1000",
                ["Logging:LogLevel:Default"] = "Warning",
            };
            foreach (var (key, value) in settings)
            {
                all[key] = value;
            }
            // One after the other: the first migrates the empty database and creates the administrator.
            ((List<ServerProcess>)Servers).Add(await ServerProcess.StartAsync($"server{i + 1}", logs, all));
        }
        Token = await Servers[0].SignInAsync();
        Api = ApiOf(Servers[0]);
        Scenario = new RehearsalScenario(Api, root, new RehearsalOptions { Devices = devices, Jobs = Kinds, PollSeconds = 5, FilesPerUser = 2 });
        await Scenario.SetUpAsync(CancellationToken.None);
        this.failover = failover;
        CreateDevicesFolderInMemory();
        for (var i = 1; i <= devices; i++)
        {
            var spec = RehearsalScenario.DeviceSpec(i, new SimulatedFaults(), filesPerUser: 2);
            SimulatedDeviceBuilder.Create(SimulatedFleet.DeviceFolderOf(DevicesRoot, spec.DeviceName), spec);
            deviceNames.Add(spec.DeviceName);
        }
        Note($"{replicas} server(s) up, {devices} devices laid out");
    }

    /// <summary>A line of the test's story for its report (what happened when), never asserted on.</summary>
    public void Note(string what) => output.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F1} s] {what}");

    public RehomeApiClient ApiOf(ServerProcess server) => new(server.BaseAddress, Token);

    /// <summary>Device <paramref name="i"/> (from 1) as its folder says now.</summary>
    public SimulatedDeviceState DeviceState(int i) => new SimulatedDeviceStateFile(SimulatedFleet.DeviceFolderOf(DevicesRoot, deviceNames[i - 1])).Read();

    /// <summary>Starts every device's agent, in the fleet's own process: a service start after a power-on.</summary>
    public void StartFleet()
    {
        fleet = FleetProcess.Start(new FleetSpec
        {
            Servers = [.. Servers.Select(s => s.BaseAddress)],
            Root = DevicesRoot,
            ConfigurationKey = Scenario.ConfigurationKey,
            Devices = deviceNames,
            PollSeconds = 5,
            Failover = failover,
        });
        Note("fleet started");
    }

    /// <summary>Every device's agent as the fleet's process sees it now (server in use, requests sent, errors).</summary>
    public Task<FleetReport> FleetSnapshotAsync() =>
        (fleet ?? throw new InvalidOperationException("The fleet was not started.")).SnapshotAsync();

    /// <summary>Starts a run of <see cref="Kinds"/> over every mapping through <paramref name="api"/> (default: the first server).</summary>
    public async Task<Guid> StartRunAsync(RehomeApiClient? api = null)
    {
        var answer = await (api ?? Api).PostAsync($"/api/v1/projects/{Scenario.ProjectId}/runs",
            new { kinds = Kinds.Select(k => k.ToString()).ToArray(), filter = new { } }, CancellationToken.None);
        Note("run started");
        return Guid.Parse((string)answer["run"]!["id"]!);
    }

    /// <summary>Starts every agent and the run, and waits until half as many jobs as devices have begun: the moment for a fault.</summary>
    public async Task<Guid> StartRunUnderWayAsync()
    {
        StartFleet();
        var runId = await StartRunAsync();
        // The fleet's process gives way to the servers: on a shared machine a large fleet gets under way later.
        await WaitForJobsStartedAsync(DeviceCount / 2, TimeSpan.FromMinutes(5 * Math.Max(1, DeviceCount / 1000)));
        return runId;
    }

    /// <summary>
    /// Waits until every agent is enrolled and in a long poll whose store look found nothing: a job that reaches a
    /// device after this came by a wake-up signal (or a re-check), not by the first look of a new agent.
    /// </summary>
    public Task WaitForEnrollmentAsync(TimeSpan timeout) =>
        SimulatedFleet.WaitUntilAsync(() => Task.FromResult(fleet?.PolledTwice == DeviceCount), timeout,
            "every agent to be in its second poll");

    /// <summary>Waits until the fleet's agents have begun <paramref name="count"/> jobs: the run is well under way.</summary>
    private async Task WaitForJobsStartedAsync(int count, TimeSpan timeout)
    {
        await SimulatedFleet.WaitUntilAsync(() => Task.FromResult(JobsStarted >= count), timeout, $"{count} jobs to start");
        Note($"{JobsStarted} jobs begun by the agents");
    }

    /// <summary>
    /// Waits until every job of the run is over, asking <paramref name="api"/> (default: the first server), which
    /// may be down or without its store for a while meanwhile; then returns every job.
    /// </summary>
    public async Task<List<JsonNode>> WaitForRunAsync(Guid runId, TimeSpan timeout, RehomeApiClient? api = null)
    {
        api ??= Api;
        var clock = Stopwatch.StartNew();
        JsonNode? last = null;
        while (true)
        {
            try
            {
                last = await api.GetAsync($"/api/v1/runs/{runId}", CancellationToken.None);
                if ((bool?)last["isOver"] == true)
                {
                    return await JobsAsync(runId, api);
                }
            }
            catch (Exception e) when (e is HttpRequestException or ApiException or TaskCanceledException)
            {
                // The server or its store is away: ask again.
            }
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException(
                    $"Timed out after {timeout.TotalSeconds:F0} s waiting for run {runId} to be over; jobs by kind and status: {last?["jobsByKindAndStatus"]?.ToJsonString() ?? "(never answered)"}");
            }
            await Task.Delay(250);
        }
    }

    public async Task<List<JsonNode>> JobsAsync(Guid runId, RehomeApiClient? api = null)
    {
        var jobs = new List<JsonNode>();
        for (var page = 1; ; page++)
        {
            var items = (await (api ?? Api).GetAsync($"/api/v1/runs/{runId}/jobs?page={page}&pageSize=1000", CancellationToken.None))["items"]!.AsArray();
            if (items.Count == 0)
            {
                return jobs;
            }
            jobs.AddRange(items.Select(j => j!));
        }
    }

    /// <summary>
    /// The run ended as without the fault: every job of every device Finished, each leased at most
    /// <paramref name="maxAttempts"/> times, and on every device leaving the source and joining the destination
    /// took effect exactly once (the device is where it should be).
    /// </summary>
    public async Task AssertEveryJobFinishedOnceAsync(IReadOnlyList<JsonNode> jobs, int maxAttempts)
    {
        var agents = (await FleetSnapshotAsync()).Devices!;
        Note($"run over; jobs by attempts: {string.Join(", ", jobs.GroupBy(j => (int)j["attempts"]!).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}"))}");
        foreach (var job in jobs.Where(j => (int)j["attempts"]! > 1).Take(5))
        {
            Note($"leased again: {job["kind"]} started {job["startedAt"]} finished {job["finishedAt"]} attempts {job["attempts"]}");
        }
        Assert.Equal(DeviceCount * Kinds.Length, jobs.Count);
        var unfinished = jobs.Where(j => (string)j["status"]! != nameof(JobStatus.Finished)).ToList();
        Assert.True(unfinished.Count == 0, $"{unfinished.Count} jobs did not finish, e.g. " +
            string.Join("; ", unfinished.Take(5).Select(j => $"{j["kind"]} {j["status"]} attempts {j["attempts"]}: {j["errorMessage"]}")));
        for (var i = 1; i <= DeviceCount; i++)
        {
            var state = DeviceState(i);
            Assert.True(agents[i - 1].Error is null, $"device {i}'s agent ended with {agents[i - 1].Error}");
            Assert.True(state.StepRuns.GetValueOrDefault("LeaveSource") == 1, $"device {i} left its source {state.StepRuns.GetValueOrDefault("LeaveSource")} times");
            Assert.True(state.StepRuns.GetValueOrDefault("JoinDestination") == 1, $"device {i} joined its destination {state.StepRuns.GetValueOrDefault("JoinDestination")} times");
            Assert.Equal(RehearsalScenario.DestinationName(i), state.ComputerName);
            Assert.False(state.SignInBlocked, $"device {i}: sign-in is still blocked");
        }
        var repeated = jobs.Where(j => (int)j["attempts"]! > maxAttempts).ToList();
        Assert.True(repeated.Count == 0, $"{repeated.Count} jobs were leased more than {maxAttempts} times (most: {repeated.Select(j => (int)j["attempts"]!).DefaultIfEmpty().Max()})");
    }

    public async ValueTask DisposeAsync()
    {
        if (fleet is not null)
        {
            await fleet.StopAsync();
            await fleet.DisposeAsync();
        }
        Api?.Dispose();
        foreach (var server in Servers)
        {
            await server.DisposeAsync();
            // Shown with the test's result: what each server said, for a failure's cause (never asserted on).
            output.WriteLine($"---- {server.Name} ({server.LogFile}), last lines:{Environment.NewLine}{server.Tail(40)}");
        }
        try
        {
            await FaultPostgres.DropDatabaseAsync(database);
        }
        catch (Npgsql.NpgsqlException e)
        {
            output.WriteLine($"The database {database} was not dropped: {e.Message}");
        }
        try
        {
            // The test's own folder in memory (its devices' parent), or its devices on disk.
            System.IO.Directory.Delete(DevicesRoot == Path.Combine(root, "devices") ? DevicesRoot : Path.GetDirectoryName(DevicesRoot)!, recursive: true);
        }
        catch (IOException)
        {
            // Left for the temp folder's clean-up.
        }
    }
}
