using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Agent.Platform.Simulated;
using Rehome.Core.Runs;
using Rehome.Server.Store;

namespace Rehome.EndToEnd.Tests;

/// <summary>A device that goes silent for longer than its policy allows ends its job with a status that says so.</summary>
public sealed class DeviceOfflineEndToEndTests
{
    [Fact]
    public async Task A_device_offline_past_its_policys_limit_ends_its_job_failed_as_device_offline_while_the_others_finish()
    {
        // Short times so the test takes seconds: a 5 s lease, presence written every second, the offline search every second.
        await using var world = await LiveWorld.StartAsync(3, [JobKind.RejoinDomain],
            i => i == 1 ? new SimulatedFaults { SlowStep = "PrepareJoin", SlowSeconds = 120 } : new SimulatedFaults(),
            new Dictionary<string, string?>
            {
                ["Rehome:Runs:LeaseDuration"] = "00:00:05",
                ["Rehome:Runs:OfflineSweepInterval"] = "00:00:01",
                ["Rehome:Gateway:PresenceFlushInterval"] = "00:00:01",
            });
        await SetOfflineLimitAsync(world, TimeSpan.FromSeconds(20));
        world.Fleet.StartAll();
        var runId = await world.RunAsync(JobKind.RejoinDomain);
        await world.WaitForJobAsync(runId, 1, JobKind.RejoinDomain, s => s == JobStatus.InProgress, "device 1's rejoin to start");

        await world.Fleet.StopAsync(world.Device(1));
        var jobs = await world.WaitForRunAsync(runId);

        var offline = jobs.Single(j => j["mappingId"]!.GetValue<Guid>() == world.MappingOf(1));
        Assert.Equal(JobStatus.Failed, LiveWorld.StatusOf(offline));
        Assert.Equal(JobErrorCodes.DeviceOffline, (string?)offline["errorCode"]);
        Assert.Contains("has not been heard of for", (string?)offline["errorMessage"]);
        Assert.All(jobs.Where(j => j != offline), j => Assert.Equal(JobStatus.Finished, LiveWorld.StatusOf(j)));
        // It stopped before leaving its source: the device is where it was.
        Assert.Equal(0, world.Device(1).State.StepRuns.GetValueOrDefault("LeaveSource"));
    }

    /// <summary>
    /// Writes the limit into the project's policy directly: the policy commands refuse less than an hour, which a
    /// test cannot wait for.
    /// </summary>
    private static async Task SetOfflineLimitAsync(LiveWorld world, TimeSpan limit)
    {
        await using var scope = world.Server.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var policyId = await db.Projects.Where(p => p.Id == world.Scenario.ProjectId).Select(p => p.PolicyId).SingleAsync();
        var policy = await db.Policies.SingleAsync(p => p.Id == policyId);
        policy.Settings = policy.Settings with { DeviceOfflineLimit = limit };
        await db.SaveChangesAsync();
    }
}
