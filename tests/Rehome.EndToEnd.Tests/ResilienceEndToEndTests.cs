using Rehome.Agent.Jobs;
using Rehome.Agent.Platform.Simulated;
using Rehome.Cli.Rehearsal;
using Rehome.Core.Runs;
using Rehome.Protocol;

namespace Rehome.EndToEnd.Tests;

/// <summary>Crashes, restarts, outages and stops: no job lost, none run twice, every device ends where it should.</summary>
public sealed class ResilienceEndToEndTests
{
    private static readonly string[] RejoinSteps =
        [.. JobPlans.For(AgentJobKind.RejoinDomain, new DeviceFacts { DeviceName = "", OsVersion = "", AgentVersion = "" }).Steps.Select(s => s.Name)];

    [Fact]
    public async Task A_device_crash_at_every_step_of_rejoin_resumes_and_ends_as_without_the_crash()
    {
        // Device 1 runs without a fault; each other device crashes once at one step, before or after its effect.
        // (After the effect of Restart is the next boot: the resume itself.)
        var faults = RejoinSteps.SelectMany(step => new[] { (step, false), (step, true) }).Where(f => f != ("Restart", true)).ToList();
        await using var world = await LiveWorld.StartAsync(faults.Count + 1, [JobKind.RejoinDomain], i => i == 1
            ? new SimulatedFaults()
            : new SimulatedFaults { CrashStep = faults[i - 2].step, CrashAfterEffect = faults[i - 2].Item2 });
        world.Fleet.StartAll();
        var runId = await world.RunAsync(JobKind.RejoinDomain);

        var jobs = await world.WaitForRunAsync(runId, TimeSpan.FromMinutes(2));

        Assert.All(jobs, j => Assert.Equal(JobStatus.Finished, LiveWorld.StatusOf(j)));
        var reference = world.Device(1).State;
        for (var i = 2; i <= faults.Count + 1; i++)
        {
            var (step, after) = faults[i - 2];
            var device = world.Device(i).State;
            var what = $"device {i} (crash at {step}, {(after ? "after" : "before")} its effect)";
            Assert.True(device.CrashesDone.Contains(step), $"{what}: the crash did not happen");
            Assert.Equal(RehearsalScenario.DestinationName(i), device.ComputerName);
            Assert.Equal(reference.JoinType, device.JoinType);
            Assert.Equal(reference.BootCount, device.BootCount);
            Assert.Equal(reference.Locked, device.Locked);
            Assert.False(device.SignInBlocked, $"{what}: sign-in is still blocked");
            Assert.Equal(reference.EscrowedRecoveryKeys.Distinct(), device.EscrowedRecoveryKeys.Distinct());
            Assert.Equal(reference.LocalAdministrators.Count, device.LocalAdministrators.Count);
            // Leaving the source and joining the destination took effect once, whatever the crash.
            Assert.True(device.StepRuns.GetValueOrDefault("LeaveSource") <= 1, $"{what}: LeaveSource ran twice");
            Assert.True(device.StepRuns.GetValueOrDefault("JoinDestination") <= 1, $"{what}: JoinDestination ran twice");
        }
    }

    [Fact]
    public async Task A_server_restart_during_a_run_loses_no_job_and_runs_none_twice()
    {
        await using var world = await LiveWorld.StartAsync(4, [JobKind.RejoinDomain, JobKind.MigratePermissions],
            _ => new SimulatedFaults { SlowStep = "PrepareJoin", SlowSeconds = 2 });
        world.Fleet.StartAll();
        var runId = await world.RunAsync(JobKind.RejoinDomain, JobKind.MigratePermissions);
        await world.WaitForJobAsync(runId, 1, JobKind.RejoinDomain, s => s == JobStatus.InProgress, "the first rejoin to start");

        await world.RestartServerAsync();
        var jobs = await world.WaitForRunAsync(runId);

        Assert.All(jobs, j => Assert.Equal(JobStatus.Finished, LiveWorld.StatusOf(j)));
        Assert.All(jobs, j => Assert.Equal(1, (int)j["attempts"]!));
        Assert.All(world.Fleet.Devices, d => Assert.Equal(1, d.State.StepRuns["LeaveSource"]));
    }

    [Fact]
    public async Task An_outage_longer_than_the_lease_returns_the_job_and_the_device_resumes_it()
    {
        await using var world = await LiveWorld.StartAsync(1, [JobKind.RejoinDomain],
            _ => new SimulatedFaults { OfflineStep = "JoinDestination", OfflineSeconds = 8 },
            new Dictionary<string, string?> { ["Rehome:Runs:LeaseDuration"] = "00:00:05" });
        world.Fleet.StartAll();
        var runId = await world.RunAsync(JobKind.RejoinDomain);

        var job = (await world.WaitForRunAsync(runId)).Single();

        Assert.Equal(JobStatus.Finished, LiveWorld.StatusOf(job));
        Assert.True((int)job["attempts"]! >= 2, "the lease should have lapsed during the outage");
        var device = world.Device(1).State;
        Assert.Equal(RehearsalScenario.DestinationName(1), device.ComputerName);
        Assert.Equal(1, device.StepRuns["LeaveSource"]);
    }

    [Fact]
    public async Task A_stop_ends_a_job_in_each_status_and_never_strands_a_device()
    {
        await using var world = await LiveWorld.StartAsync(3, [JobKind.RejoinDomain, JobKind.MigratePermissions], i => i switch
        {
            // Device 1 is slow while still in its source, device 2 after it left the source.
            1 => new SimulatedFaults { SlowStep = "ExportAppAssociations", SlowSeconds = 30 },
            2 => new SimulatedFaults { SlowStep = "JoinDestination", SlowSeconds = 4 },
            _ => new SimulatedFaults(),
        });
        var runId = await world.RunAsync(JobKind.RejoinDomain, JobKind.MigratePermissions);
        await world.WaitForJobAsync(runId, 3, JobKind.RejoinDomain, s => s == JobStatus.WaitingToStart, "device 3's rejoin to be ready");

        // Waiting to start (device 3 has no agent) and waiting for a prerequisite: stopped at once.
        var waiting = await world.JobAsync(runId, 3, JobKind.RejoinDomain);
        await world.Api.PostAsync($"/api/v1/jobs/{waiting["id"]}/stop", new { }, CancellationToken.None);
        Assert.Equal(JobStatus.Stopped, LiveWorld.StatusOf(await world.JobAsync(runId, 3, JobKind.RejoinDomain)));
        Assert.Equal(JobStatus.Failed, LiveWorld.StatusOf(await world.JobAsync(runId, 3, JobKind.MigratePermissions)));

        world.Fleet.Start(world.Device(1));
        world.Fleet.Start(world.Device(2));
        await SimulatedFleet.WaitUntilAsync(() => Task.FromResult(world.Device(1).State.StagedJoin is not null && world.Device(1).State.SignInBlocked), TimeSpan.FromSeconds(30), "device 1 to lock");
        await SimulatedFleet.WaitUntilAsync(() => Task.FromResult(world.Device(2).State.JoinType == DeviceJoinType.Workgroup), TimeSpan.FromSeconds(30), "device 2 to leave its source");

        // In progress: the agents are asked; device 1 stops (and unlocks), device 2 is past leaving its source and finishes.
        foreach (var device in new[] { 1, 2 })
        {
            var running = await world.JobAsync(runId, device, JobKind.RejoinDomain);
            await world.Api.PostAsync($"/api/v1/jobs/{running["id"]}/stop", new { }, CancellationToken.None);
        }
        await world.WaitForJobAsync(runId, 1, JobKind.RejoinDomain, s => s == JobStatus.Stopped, "device 1's rejoin to stop");
        await world.WaitForJobAsync(runId, 2, JobKind.RejoinDomain, s => s == JobStatus.Finished, "device 2's rejoin to finish");
        Assert.False(world.Device(1).State.Locked);
        Assert.False(world.Device(1).State.SignInBlocked);
        Assert.Null(world.Device(1).State.StagedJoin);
        Assert.Equal(RehearsalScenario.DeviceName(1), world.Device(1).State.ComputerName);
        Assert.Equal(RehearsalScenario.DestinationName(2), world.Device(2).State.ComputerName);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_rejoin_whose_destination_join_cannot_complete_ends_back_in_the_source_never_in_a_workgroup(bool activeDirectoryDestination)
    {
        await using var world = await LiveWorld.StartAsync(2, [JobKind.RejoinDomain, JobKind.MigratePermissions],
            i => i == 2 ? new SimulatedFaults { FailStep = "JoinDestination" } : new SimulatedFaults(), activeDirectoryDestination: activeDirectoryDestination);
        world.Fleet.StartAll();
        var runId = await world.RunAsync(JobKind.RejoinDomain, JobKind.MigratePermissions);

        await world.WaitForRunAsync(runId, TimeSpan.FromMinutes(2));

        Assert.Equal(JobStatus.Finished, LiveWorld.StatusOf(await world.JobAsync(runId, 1, JobKind.RejoinDomain)));
        var failed = await world.JobAsync(runId, 2, JobKind.RejoinDomain);
        Assert.Equal(JobStatus.Failed, LiveWorld.StatusOf(failed));
        Assert.True(((string?)failed["errorMessage"])?.Contains("went back to its source", StringComparison.Ordinal), (string?)failed["errorMessage"]);
        Assert.Equal(JobStatus.Failed, LiveWorld.StatusOf(await world.JobAsync(runId, 2, JobKind.MigratePermissions)));
        var device = world.Device(2).State;
        Assert.Equal(RehearsalScenario.DeviceName(2), device.ComputerName);
        Assert.Equal(DeviceJoinType.ActiveDirectory, device.JoinType);
        Assert.Equal(world.Scenario.Identities.SourceDnsName, device.DomainName);
        Assert.False(device.SignInBlocked);
        Assert.Equal(RehearsalScenario.DestinationName(1), world.Device(1).State.ComputerName);
    }

    [Fact]
    public async Task A_sign_in_block_that_no_running_job_holds_is_lifted_when_the_agent_starts()
    {
        await using var world = await LiveWorld.StartAsync(1, [JobKind.RejoinDomain]);
        new SimulatedDeviceStateFile(world.Device(1).DeviceFolder).Change(s => s with { SignInBlocked = true, LockNotice = "left by a crash" });

        world.Fleet.Start(world.Device(1));

        await SimulatedFleet.WaitUntilAsync(() => Task.FromResult(!world.Device(1).State.SignInBlocked), TimeSpan.FromSeconds(30), "the block to be lifted");
    }
}
