using Rehome.Agent.Platform.Simulated;
using Rehome.Agent.Polling;
using Rehome.Core.Runs;

namespace Rehome.EndToEnd.Tests;

/// <summary>An administrator uninstalls agents remotely; real agents on simulated devices remove themselves and their data.</summary>
public sealed class UninstallEndToEndTests
{
    [Fact]
    public async Task An_agent_told_to_uninstall_while_holding_a_job_finishes_it_then_removes_its_data_and_itself()
    {
        // The rejoin's credential caching is slowed so that the request arrives while the agent holds the job.
        await using var world = await LiveWorld.StartAsync(1, [JobKind.RejoinDomain], _ => new SimulatedFaults { SlowStep = "CacheCredentials", SlowSeconds = 2 });
        world.Fleet.StartAll();
        var runId = await world.RunAsync(JobKind.RejoinDomain);
        await world.WaitForJobAsync(runId, 1, JobKind.RejoinDomain, s => s == JobStatus.InProgress, "the rejoin to start");
        var agentId = await AgentOfAsync(world, 1);

        await world.Api.PostAsync($"/api/v1/agents/{agentId}/uninstall", new { }, CancellationToken.None);
        await SimulatedFleet.WaitUntilAsync(async () => (string?)(await world.Api.GetAsync($"/api/v1/agents/{agentId}", CancellationToken.None))["state"] == "uninstalled",
            TimeSpan.FromSeconds(90), "the agent to confirm its uninstall");

        Assert.Equal(JobStatus.Finished, LiveWorld.StatusOf(await world.JobAsync(runId, 1, JobKind.RejoinDomain)));
        var device = world.Device(1);
        // The confirmation comes before the agent's last run ends; an earlier run ended with the rejoin's restart.
        await SimulatedFleet.WaitUntilAsync(() => Task.FromResult(device.Exit is AgentExit.Stopped or AgentExit.Refused), TimeSpan.FromSeconds(30), "the agent to stop");
        Assert.Equal(AgentExit.Stopped, device.Exit);
        Assert.False(System.IO.Directory.Exists(device.StateFolder), "the agent's state folder (identity, journals, logs) is gone");
        Assert.False(File.Exists(Path.Combine(device.DeviceFolder, "device-key.p8")), "the device key is gone");
        var removal = SimulatedAgentRemoval.Read(device.DeviceFolder);
        Assert.True(removal is { AgentRemoved: true, DeviceKeyRemoved: true }, "the agent removed itself");
        // The device stays where the job took it.
        Assert.Equal(Rehome.Cli.Rehearsal.RehearsalScenario.DestinationName(1), device.State.ComputerName);
        var agent = await world.Api.GetAsync($"/api/v1/agents/{agentId}", CancellationToken.None);
        Assert.NotNull(agent["revokedAt"]);
        Assert.NotNull(agent["uninstall"]!["uninstalledAt"]);
    }

    [Fact]
    public async Task The_agents_of_a_projects_completed_mappings_uninstall_after_one_request_and_the_others_stay()
    {
        await using var world = await LiveWorld.StartAsync(2, [JobKind.MigrateEntraIdGroups]);
        world.Fleet.StartAll();
        var runId = await world.RunAsync(JobKind.MigrateEntraIdGroups);
        await world.WaitForRunAsync(runId);
        var second = await AgentOfAsync(world, 2);
        // The second device's job is run again and stays waiting: its mapping is not complete.
        await world.Api.PostAsync($"/api/v1/agents/{second}/revoke", new { }, CancellationToken.None);
        await world.Api.PostAsync($"/api/v1/projects/{world.Scenario.ProjectId}/runs",
            new { kinds = new[] { "MigrateEntraIdGroups" }, mappingIds = new[] { world.MappingOf(2) } }, CancellationToken.None);

        var result = await world.Api.PostAsync($"/api/v1/projects/{world.Scenario.ProjectId}/agents/uninstall", new { }, CancellationToken.None);

        Assert.Equal(1, (int)result["done"]!);
        Assert.Equal(1, (int)result["keptByReason"]!["Active"]!);
        var first = await AgentOfAsync(world, 1);
        await SimulatedFleet.WaitUntilAsync(async () => (string?)(await world.Api.GetAsync($"/api/v1/agents/{first}", CancellationToken.None))["state"] == "uninstalled",
            TimeSpan.FromSeconds(60), "the first agent to confirm its uninstall");
        // The agent removes itself after its confirmation (its last call): the flag comes a moment after the state.
        await SimulatedFleet.WaitUntilAsync(() => Task.FromResult(SimulatedAgentRemoval.Read(world.Device(1).DeviceFolder)?.AgentRemoved == true),
            TimeSpan.FromSeconds(30), "the first agent to remove itself");
        Assert.Null(SimulatedAgentRemoval.Read(world.Device(2).DeviceFolder));
    }

    private static async Task<Guid> AgentOfAsync(LiveWorld world, int device)
    {
        var page = await world.Api.GetAsync($"/api/v1/agents?search={Rehome.Cli.Rehearsal.RehearsalScenario.DeviceName(device)}", CancellationToken.None);
        return page["items"]!.AsArray().Single()!["id"]!.GetValue<Guid>();
    }
}
