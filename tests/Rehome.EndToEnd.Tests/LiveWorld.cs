using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Rehome.Agent.Platform.Simulated;
using Rehome.Cli.Client;
using Rehome.Cli.Rehearsal;
using Rehome.Core.Runs;
using Rehome.Server.Directories;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.EndToEnd.Tests;

/// <summary>The fleet's agents update themselves: packages signed with <paramref name="PublisherKey"/>, checked for every <paramref name="CheckSeconds"/>.</summary>
public sealed record AgentUpdateSettings(string PublisherKey, int CheckSeconds, int CheckInSeconds);

/// <summary>
/// The real server (SQLite, real clock, simulated directory) with a project of simulated devices, each with a
/// real agent over HTTP on loopback. Devices are laid out, not started: each test starts the agents it needs.
/// </summary>
public sealed class LiveWorld : IAsyncDisposable
{
    private LiveWorld(ServerHost server, RehomeApiClient api, RehearsalScenario scenario, SimulatedFleet fleet, string root)
    {
        Server = server;
        Api = api;
        Scenario = scenario;
        Fleet = fleet;
        Root = root;
    }

    public ServerHost Server { get; private set; }

    public RehomeApiClient Api { get; private set; }

    public RehearsalScenario Scenario { get; }

    public SimulatedFleet Fleet { get; private set; }

    public string Root { get; }

    public SimulatedDirectory Directory => Server.App.Services.GetRequiredService<SimulatedDirectory>();

    public static async Task<LiveWorld> StartAsync(int devices, IReadOnlyList<JobKind> jobs, Func<int, SimulatedFaults>? faults = null,
        Dictionary<string, string?>? settings = null, int port = 0, bool activeDirectoryDestination = false, AgentUpdateSettings? agentUpdates = null)
    {
        var server = await ServerHost.StartLiveAsync(settings, port: port);
        var root = Path.Combine(Path.GetTempPath(), "rehome-e2e", Guid.NewGuid().ToString("N"));
        var api = new RehomeApiClient(server.BaseAddress, server.Client.DefaultRequestHeaders.Authorization!.Parameter);
        var scenario = new RehearsalScenario(api, root, new RehearsalOptions
        {
            Devices = devices,
            Jobs = jobs,
            PollSeconds = 5,
            ActiveDirectoryDestination = activeDirectoryDestination,
        });
        await scenario.SetUpAsync(CancellationToken.None);
        var fleet = new SimulatedFleet(server.BaseAddress, Path.Combine(root, "devices"), scenario.ConfigurationKey, NullLoggerFactory.Instance)
        {
            PollSeconds = 5,
            UpdatePublisherKey = agentUpdates?.PublisherKey,
            UpdateCheckSeconds = agentUpdates?.CheckSeconds ?? 900,
            UpdateCheckInSeconds = agentUpdates?.CheckInSeconds ?? 300,
        };
        for (var i = 1; i <= devices; i++)
        {
            fleet.Add(RehearsalScenario.DeviceSpec(i, faults?.Invoke(i) ?? new SimulatedFaults(), filesPerUser: 4));
        }
        return new LiveWorld(server, api, scenario, fleet, root);
    }

    public FleetDevice Device(int i) => Fleet.Devices[i - 1];

    public Guid MappingOf(int i) => Scenario.Mappings[RehearsalScenario.DeviceName(i)];

    public async Task<Guid> RunAsync(params JobKind[] kinds)
    {
        var answer = await Api.PostAsync($"/api/v1/projects/{Scenario.ProjectId}/runs",
            new { kinds = kinds.Select(k => k.ToString()).ToArray(), filter = new { } }, CancellationToken.None);
        return Guid.Parse((string)answer["run"]!["id"]!);
    }

    public async Task<List<JsonNode>> JobsAsync(Guid runId) =>
        [.. (await Api.GetAsync($"/api/v1/runs/{runId}/jobs?pageSize=1000", CancellationToken.None))["items"]!.AsArray().Select(j => j!)];

    public async Task<JsonNode> JobAsync(Guid runId, int device, JobKind kind) =>
        (await JobsAsync(runId)).Single(j => j["mappingId"]!.GetValue<Guid>() == MappingOf(device) && (string)j["kind"]! == kind.ToString());

    public static JobStatus StatusOf(JsonNode job) => Enum.Parse<JobStatus>((string)job["status"]!);

    /// <summary>Waits until every job of the run is over (or the time runs out) and returns them.</summary>
    public async Task<List<JsonNode>> WaitForRunAsync(Guid runId, TimeSpan? timeout = null)
    {
        await SimulatedFleet.WaitUntilAsync(async () =>
            (bool?)(await Api.GetAsync($"/api/v1/runs/{runId}", CancellationToken.None))["isOver"] == true,
            timeout ?? TimeSpan.FromSeconds(90), $"run {runId} to be over");
        return await JobsAsync(runId);
    }

    public async Task WaitForJobAsync(Guid runId, int device, JobKind kind, Func<JobStatus, bool> condition, string what) =>
        await SimulatedFleet.WaitUntilAsync(async () => condition(StatusOf(await JobAsync(runId, device, kind))), TimeSpan.FromSeconds(60), what);

    /// <summary>Stops the server and starts it again on the same store and port (agents keep running).</summary>
    public async Task RestartServerAsync()
    {
        var folder = Server.Folder;
        var port = Server.BaseAddress.Port;
        Server.KeepFolder = true;
        await Server.DisposeAsync();
        Server = await StartOnAsync(folder, port);
        Api.Dispose();
        Api = new RehomeApiClient(Server.BaseAddress, Server.Client.DefaultRequestHeaders.Authorization!.Parameter);
    }

    private static async Task<ServerHost> StartOnAsync(string folder, int port)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await ServerHost.StartLiveAsync(folder: folder, port: port);
            }
            catch (IOException) when (attempt < 20)
            {
                // The port is still being released.
                await Task.Delay(100);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Fleet.DisposeAsync();
        Api.Dispose();
        await Server.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Left for the temp folder's clean-up.
        }
    }
}
