using Rehome.Agent.Platform.Simulated;
using Rehome.Cli.Rehearsal;
using Rehome.Core.Runs;
using Rehome.Protocol;
using Rehome.Security.Descriptors;
using Rehome.Server.Directories;

namespace Rehome.EndToEnd.Tests;

/// <summary>The five jobs on simulated devices with real agents: what each changes on the device, and how they wait for each other.</summary>
public sealed class JobsEndToEndTests
{
    [Fact]
    public async Task Every_job_finishes_and_changes_the_device_as_it_should()
    {
        await using var world = await LiveWorld.StartAsync(2, Enum.GetValues<JobKind>());
        world.Fleet.StartAll();
        var runId = await world.RunAsync(Enum.GetValues<JobKind>());

        var jobs = await world.WaitForRunAsync(runId);

        Assert.All(jobs, j => Assert.Equal(JobStatus.Finished, LiveWorld.StatusOf(j)));
        var device = world.Device(1).State;
        var sourceUser = SimulatedIdentities.User(SimulatedIdentities.SourceDomain, 1).ToString();
        var destinationUser = SimulatedIdentities.User(SimulatedIdentities.DestinationDomain, 1).ToString();
        // Rejoin: in the destination under its new name, restarted once, unlocked, the user's admin right carried over.
        Assert.Equal(RehearsalScenario.DestinationName(1), device.ComputerName);
        Assert.Equal(DeviceJoinType.EntraId, device.JoinType);
        Assert.Equal(2, device.BootCount);
        Assert.False(device.Locked);
        Assert.Contains(destinationUser, device.LocalAdministrators);
        // Permissions: the shared folder's files name the destination user, not the source one.
        var store = new FolderSecurityStore(world.Device(1).DeviceFolder);
        var report = SecurityDescriptor.FromBinary(store.ReadDescriptor(@"C:\Data\Shared\report000.xlsx"));
        var trustees = report.Dacl!.Aces.Select(a => a.Sid!.ToString()).Append(report.Owner!.ToString()).ToList();
        Assert.Contains(destinationUser, trustees);
        Assert.DoesNotContain(sourceUser, trustees);
        // Profile: ProfileList hands C:\Users\user00001 to the destination account, and the hive is its own.
        var folder = world.Device(1).DeviceFolder;
        var profiles = new SimulatedProfiles(folder, new SimulatedDeviceStateFile(folder), store).Read();
        Assert.Contains(profiles, p => p.Sid == destinationUser && p.ProfileImagePath == @"C:\Users\user00001");
        Assert.DoesNotContain(profiles, p => p.Sid == sourceUser);
        Assert.Equal(destinationUser, SecurityDescriptor.FromBinary(store.ReadDescriptor(@"C:\Users\user00001\NTUSER.DAT")).Owner!.ToString());
        // Entra ID groups: the destination device object is in the mapped groups.
        Assert.Contains("SG-Devices-All", world.Directory.GroupMemberships[RehearsalScenario.DestinationName(1)]);
        // The mapping's report carries the device's log.
        var mappingReport = await world.Api.GetAsync($"/api/v1/mappings/{world.MappingOf(1)}/report", CancellationToken.None);
        var log = mappingReport["log"]!.AsArray().Select(l => (string)l!["text"]!).ToList();
        Assert.Contains(log, l => l.Contains("Joined", StringComparison.Ordinal));
        Assert.Contains(log, l => l.Contains("Re-ACL", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Permissions_wait_for_the_rejoin_in_the_same_run()
    {
        await using var world = await LiveWorld.StartAsync(1, [JobKind.RejoinDomain, JobKind.MigratePermissions]);
        var runId = await world.RunAsync(JobKind.RejoinDomain, JobKind.MigratePermissions);
        // No agent yet: the rejoin waits to start, the permissions wait for it.
        await world.WaitForJobAsync(runId, 1, JobKind.RejoinDomain, s => s == JobStatus.WaitingToStart, "the rejoin to be prepared");
        Assert.Equal(JobStatus.WaitingForPrerequisite, LiveWorld.StatusOf(await world.JobAsync(runId, 1, JobKind.MigratePermissions)));

        world.Fleet.StartAll();
        var jobs = await world.WaitForRunAsync(runId);

        var rejoin = jobs.Single(j => (string)j["kind"]! == "RejoinDomain");
        var permissions = jobs.Single(j => (string)j["kind"]! == "MigratePermissions");
        Assert.Equal(JobStatus.Finished, LiveWorld.StatusOf(rejoin));
        Assert.Equal(JobStatus.Finished, LiveWorld.StatusOf(permissions));
        Assert.True(permissions["startedAt"]!.GetValue<DateTimeOffset>() >= rejoin["finishedAt"]!.GetValue<DateTimeOffset>());
    }

    [Fact]
    public async Task A_step_failing_before_the_device_leaves_rolls_the_rejoin_back_and_fails_its_dependents()
    {
        await using var world = await LiveWorld.StartAsync(1, [JobKind.RejoinDomain, JobKind.MigrateUserProfile],
            _ => new SimulatedFaults { FailStep = "ExportAppAssociations" });
        world.Fleet.StartAll();
        var runId = await world.RunAsync(JobKind.RejoinDomain, JobKind.MigrateUserProfile);

        var jobs = await world.WaitForRunAsync(runId);

        var rejoin = jobs.Single(j => (string)j["kind"]! == "RejoinDomain");
        Assert.Equal(JobStatus.Failed, LiveWorld.StatusOf(rejoin));
        Assert.Equal("InjectedFailure", (string?)rejoin["errorCode"]);
        Assert.Equal(JobStatus.Failed, LiveWorld.StatusOf(jobs.Single(j => (string)j["kind"]! == "MigrateUserProfile")));
        // Back where it was: still in the source under its name, unlocked, nothing restarted.
        var device = world.Device(1).State;
        Assert.Equal(RehearsalScenario.DeviceName(1), device.ComputerName);
        Assert.Equal(SimulatedIdentities.SourceDnsName, device.DomainName);
        Assert.False(device.Locked);
        Assert.False(device.SignInBlocked);
        Assert.Null(device.StagedJoin);
        Assert.Equal(1, device.BootCount);
    }

    [Fact]
    public async Task An_Active_Directory_destination_is_prepared_by_the_server_before_the_device_joins_it()
    {
        await using var world = await LiveWorld.StartAsync(2, [JobKind.RejoinDomain, JobKind.MigrateUserProfile], activeDirectoryDestination: true,
            settings: new() { ["Rehome:Directories:Simulated:TakenComputerNames:0"] = RehearsalScenario.DestinationName(2) });
        world.Fleet.StartAll();
        var runId = await world.RunAsync(JobKind.RejoinDomain, JobKind.MigrateUserProfile);

        var jobs = await world.WaitForRunAsync(runId);

        // Device 1: the server made its computer object and join data; the device joined the domain with them.
        Assert.Equal(JobStatus.Finished, LiveWorld.StatusOf(await world.JobAsync(runId, 1, JobKind.RejoinDomain)));
        Assert.Equal(JobStatus.Finished, LiveWorld.StatusOf(await world.JobAsync(runId, 1, JobKind.MigrateUserProfile)));
        Assert.True(world.Directory.Computers.ContainsKey(RehearsalScenario.DestinationName(1)));
        var device = world.Device(1).State;
        Assert.Equal(DeviceJoinType.ActiveDirectory, device.JoinType);
        Assert.Equal(SimulatedIdentities.DestinationDnsName, device.DomainName);
        // Device 2: its destination name is taken, so its rejoin fails before the device is touched.
        var refused = await world.JobAsync(runId, 2, JobKind.RejoinDomain);
        Assert.Equal(JobStatus.Failed, LiveWorld.StatusOf(refused));
        Assert.Equal("ComputerNameTaken", (string?)refused["errorCode"]);
        Assert.Equal(JobStatus.Failed, LiveWorld.StatusOf(await world.JobAsync(runId, 2, JobKind.MigrateUserProfile)));
        Assert.Equal(RehearsalScenario.DeviceName(2), world.Device(2).State.ComputerName);
        Assert.Equal(0, world.Device(2).State.PromptsShown);
        Assert.Equal(4, jobs.Count);
    }
}
