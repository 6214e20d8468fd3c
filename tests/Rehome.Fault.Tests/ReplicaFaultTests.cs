using Xunit.Abstractions;

namespace Rehome.Fault.Tests;

/// <summary>Two server processes on one PostgreSQL, the devices spread over both; one of them killed mid-run.</summary>
public sealed class ReplicaFaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Two_replicas_on_one_store_finish_every_job_once_and_wake_the_polls_of_each_others_devices()
    {
        // No periodic re-check within the test: a run started through the first replica reaches the devices
        // polling the second only by its wake-up signal across replicas.
        await using var world = await FaultWorld.StartAsync(output, replicas: 2, FaultWorld.Devices(inCi: 200),
            new Dictionary<string, string> { ["Rehome:Gateway:RecheckInterval"] = "00:10:00" });
        world.StartFleet();
        await world.WaitForEnrollmentAsync(TimeSpan.FromMinutes(3));

        var runId = await world.StartRunAsync();
        var jobs = await world.WaitForRunAsync(runId, TimeSpan.FromMinutes(5));

        await world.AssertEveryJobFinishedOnceAsync(jobs, maxAttempts: 1);
        Assert.All((await world.FleetSnapshotAsync()).Devices!.Where((_, i) => i % 2 == 1), d => Assert.Equal(world.Servers[1].BaseAddress, d.Server));
    }

    [Fact]
    public async Task One_of_two_replicas_killed_mid_run_leaves_the_survivor_to_finish_every_job_once()
    {
        // The devices reach the replicas as through a load balancer that leaves a dead one out: the devices of
        // the killed replica go on with the survivor, which is never restarted.
        var devices = FaultWorld.Devices(inCi: 300);
        await using var world = await FaultWorld.StartAsync(output, replicas: 2, devices, failover: true);
        var runId = await world.StartRunUnderWayAsync();

        await world.Servers[1].KillAsync();
        world.Note("second replica killed");
        var jobs = await world.WaitForRunAsync(runId, TimeSpan.FromMinutes(10));

        // A job leased by the killed replica whose answer never reached its device comes back once its lease lapses.
        await world.AssertEveryJobFinishedOnceAsync(jobs, maxAttempts: 2);
        Assert.All((await world.FleetSnapshotAsync()).Devices!, d => Assert.Equal(world.Servers[0].BaseAddress, d.Server));
    }
}
