using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Rehome.Agent.Platform.Simulated;
using Rehome.Agent.Polling;
using Rehome.Core.Runs;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.EndToEnd.Tests;

/// <summary>
/// Issue 15's fleet kept current, end to end: a signed package marked current on the real server, real agents on
/// simulated devices that verify it with their own publisher key, hand over at a safe point, check in or roll back.
/// </summary>
public sealed class AgentUpdateEndToEndTests
{
    private static readonly string OldVersion = AgentRuntime.Version;

    private static async Task<LiveWorld> StartAsync(AgentPublisher publisher, SimulatedFaults faults, int checkInSeconds) =>
        await LiveWorld.StartAsync(1, [JobKind.RejoinDomain], _ => faults,
            settings: new() { ["Rehome:AgentUpdates:PublisherKeys:0"] = publisher.PublicKeyPem },
            agentUpdates: new AgentUpdateSettings(publisher.PublicKeyPem, CheckSeconds: 1, CheckInSeconds: checkInSeconds));

    private static async Task PublishCurrentAsync(LiveWorld world, AgentPublisher publisher, string version)
    {
        var package = await publisher.PublishAsync(world.Server.Client, version);
        await AgentPublisher.MarkCurrentAsync(world.Server.Client, package.Id());
    }

    private static async Task<JsonNode> AgentAsync(LiveWorld world) => (await EnrolledAgentAsync(world))!;

    private static async Task<JsonNode?> EnrolledAgentAsync(LiveWorld world) =>
        (await world.Api.GetAsync("/api/v1/agents", CancellationToken.None))["items"]!.AsArray().SingleOrDefault();

    [Fact]
    public async Task An_update_marked_current_mid_run_lets_the_running_job_finish_on_the_old_version_and_the_next_job_runs_on_the_new()
    {
        using var publisher = new AgentPublisher();
        // The rejoin lingers after the device left its source and restarted: the update waits for the job's end.
        await using var world = await StartAsync(publisher, new SimulatedFaults { SlowStep = "CarryOverLocalAdministrators", SlowSeconds = 4 }, checkInSeconds: 60);
        world.Fleet.StartAll();
        var rejoinRun = await world.RunAsync(JobKind.RejoinDomain);
        await world.WaitForJobAsync(rejoinRun, 1, JobKind.RejoinDomain, s => s == JobStatus.InProgress, "the rejoin to start");

        await PublishCurrentAsync(world, publisher, "2.0.0");
        var rejoin = Assert.Single(await world.WaitForRunAsync(rejoinRun));
        await SimulatedFleet.WaitUntilAsync(async () => (string?)(await AgentAsync(world))["agentVersion"] == "2.0.0", TimeSpan.FromSeconds(60), "the agent to run 2.0.0");
        var permissionsRun = await world.RunAsync(JobKind.MigrateEntraIdGroups);
        var next = Assert.Single(await world.WaitForRunAsync(permissionsRun));

        Assert.Equal(JobStatus.Finished, LiveWorld.StatusOf(rejoin));
        Assert.Equal(OldVersion, (string?)rejoin["agentVersion"]);
        Assert.Equal(JobStatus.Finished, LiveWorld.StatusOf(next));
        Assert.Equal("2.0.0", (string?)next["agentVersion"]);
        var agent = await AgentAsync(world);
        Assert.Equal("Updated", (string?)agent["lastUpdate"]!["outcome"]);
        // The new version checked in only after the rejoin had ended: it never ran a part of it.
        Assert.True(agent["lastUpdate"]!["reportedAt"]!.GetValue<DateTimeOffset>() >= rejoin["finishedAt"]!.GetValue<DateTimeOffset>());
        Assert.Equal(["2.0.0"], world.Device(1).State.AgentVersionHistory);
    }

    [Fact]
    public async Task A_new_version_that_does_not_check_in_is_rolled_back_reported_and_the_next_job_runs_on_the_old_version()
    {
        using var publisher = new AgentPublisher();
        await using var world = await StartAsync(publisher, new SimulatedFaults { FailingAgentVersions = ["3.0.0"] }, checkInSeconds: 2);
        world.Fleet.StartAll();
        await SimulatedFleet.WaitUntilAsync(async () => (string?)(await EnrolledAgentAsync(world))?["state"] == "online", TimeSpan.FromSeconds(30), "the agent to enroll");

        await PublishCurrentAsync(world, publisher, "3.0.0");
        await SimulatedFleet.WaitUntilAsync(async () => (string?)(await AgentAsync(world))["lastUpdate"]?["outcome"] == "RolledBack",
            TimeSpan.FromSeconds(60), "the update to roll back");
        var run = await world.RunAsync(JobKind.MigrateEntraIdGroups);
        var job = Assert.Single(await world.WaitForRunAsync(run));

        var agent = await AgentAsync(world);
        Assert.Equal(OldVersion, (string?)agent["agentVersion"]);
        Assert.Contains("3.0.0", (string?)agent["lastUpdate"]!["message"], StringComparison.Ordinal);
        Assert.Equal(["3.0.0", OldVersion], world.Device(1).State.AgentVersionHistory);
        Assert.Equal(OldVersion, world.Device(1).State.AgentVersion);
        Assert.Equal(JobStatus.Finished, LiveWorld.StatusOf(job));
        Assert.Equal(OldVersion, (string?)job["agentVersion"]);
        var audit = await world.Server.Client.GetFromJsonAsync<JsonObject>("/api/v1/audit?action=agent.update.rolled-back");
        Assert.Single(audit!["items"]!.AsArray());
    }
}
