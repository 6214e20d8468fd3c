using Xunit.Abstractions;

namespace Rehome.Fault.Tests;

/// <summary>The only server killed as with <c>kill -9</c> mid-run and started again on its port and store.</summary>
public sealed class KillFaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_kill_9_of_the_only_server_mid_run_and_a_restart_lose_no_job_and_run_none_twice()
    {
        var devices = FaultWorld.Devices(inCi: 300);
        await using var world = await FaultWorld.StartAsync(output, replicas: 1, devices);
        var runId = await world.StartRunUnderWayAsync();

        await world.Servers[0].KillAsync();
        world.Note("server killed");
        await world.Servers[0].StartAsync();
        world.Note("server started again");
        var jobs = await world.WaitForRunAsync(runId, TimeSpan.FromMinutes(10));

        // A job leased in the store whose answer died with the process comes back once its lease lapses.
        await world.AssertEveryJobFinishedOnceAsync(jobs, maxAttempts: 2);
    }
}
