using Rehome.Core.Mappings;
using Rehome.Core.Projects;
using Rehome.Core.Runs;
using Rehome.Protocol;
using Rehome.Server.Directories;
using Rehome.Server.Store;

namespace Rehome.EndToEnd.Tests.Directories;

/// <summary>
/// An Autopilot import still processing is kept on its Register Windows Autopilot job's row: whichever replica the
/// agent's next ask reaches (or the server after a restart) follows that import instead of starting another, and a
/// later job of the mapping starts afresh. Each ask reads Graph's status once; the stand-in counts imports started.
/// </summary>
[Collection(EntraIdWorld.Collection)]
public sealed class AutopilotImportTrackingTests
{
    private static readonly string HardwareHash = Convert.ToBase64String([.. Enumerable.Range(0, 128).Select(i => (byte)i)]);

    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.PostgreSql)]
    public async Task An_import_still_processing_is_followed_by_another_replica_and_never_started_twice(StoreProvider provider)
    {
        await using var device = await DeviceAsync(provider, "CTS-AP1", readsUntilDone: 3);

        var first = await device.AskAsync(device.World.Directory, device.Job, "SN-AP1");
        var elsewhere = await device.AskAsync(device.World.AnotherReplicasDirectory(), device.Job, "SN-AP1");
        var answer = await device.AskWhilePendingAsync(device.World.AnotherReplicasDirectory, device.Job, "SN-AP1");

        Assert.Equal(DirectoryActionState.Pending, first.State);
        Assert.Equal(DirectoryActionState.Pending, elsewhere.State);
        Assert.Equal(DirectoryActionState.Done, answer.State);
        Assert.Equal(1, device.World.ImportsStarted);
        Assert.Equal("Kiosk", device.World.Destination.Imported("SN-AP1").GroupTag);
    }

    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.PostgreSql)]
    public async Task The_job_holds_its_import_while_graph_processes_it_and_lets_go_of_it_once_the_import_ends(StoreProvider provider)
    {
        await using var device = await DeviceAsync(provider, "CTS-AP2");

        await device.AskAsync(device.World.Directory, device.Job, "SN-AP2");
        var processing = await device.World.JobAsync(device.Job.Id);
        var answer = await device.AskWhilePendingAsync(() => device.World.Directory, device.Job, "SN-AP2");
        var ended = await device.World.JobAsync(device.Job.Id);

        Assert.NotNull(processing.AutopilotImportId);
        Assert.Equal("SN-AP2", processing.AutopilotImportSerial);
        Assert.Equal(DirectoryActionState.Done, answer.State);
        Assert.Null(ended.AutopilotImportId);
        Assert.Null(ended.AutopilotImportSerial);
    }

    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.PostgreSql)]
    public async Task A_later_job_of_the_mapping_starts_a_new_import_rather_than_follow_the_earlier_jobs(StoreProvider provider)
    {
        await using var device = await DeviceAsync(provider, "CTS-AP3", readsUntilDone: 100);
        var earlier = device.Job;
        await device.AskAsync(device.World.Directory, earlier, "SN-AP3");
        var earlierImport = (await device.World.JobAsync(earlier.Id)).AutopilotImportId;
        await device.World.EndAsync(earlier, JobStatus.Failed);

        var later = await device.World.AutopilotJobAsync(device.Mapping);
        var answer = await device.AskAsync(device.World.Directory, later, "SN-AP3");

        Assert.Equal(DirectoryActionState.Pending, answer.State);
        Assert.Equal(2, device.World.ImportsStarted);
        Assert.NotNull(earlierImport);
        Assert.NotEqual(earlierImport, (await device.World.JobAsync(later.Id)).AutopilotImportId);
    }

    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.PostgreSql)]
    public async Task A_job_whose_lease_lapsed_and_came_back_follows_its_import_on_another_replica(StoreProvider provider)
    {
        await using var device = await DeviceAsync(provider, "CTS-AP4", readsUntilDone: 100);
        await device.AskAsync(device.World.Directory, device.Job, "SN-AP4");

        var again = await device.World.LapseAndLeaseAgainAsync(device.Job);
        var answer = await device.AskAsync(device.World.AnotherReplicasDirectory(), again, "SN-AP4");

        Assert.Equal(DirectoryActionState.Pending, answer.State);
        Assert.Equal(1, device.World.ImportsStarted);
    }

    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.PostgreSql)]
    public async Task An_ask_under_a_lease_that_moved_on_starts_no_import_and_changes_nothing(StoreProvider provider)
    {
        await using var device = await DeviceAsync(provider, "CTS-AP5");
        await device.World.LapseAndLeaseAgainAsync(device.Job);

        var answer = await device.AskAsync(device.World.Directory, device.Job, "SN-AP5");

        Assert.Equal(DirectoryActionState.Pending, answer.State);
        Assert.Equal(0, device.World.ImportsStarted);
        Assert.Null((await device.World.JobAsync(device.Job.Id)).AutopilotImportId);
    }

    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.PostgreSql)]
    public async Task A_device_that_reports_another_serial_number_gets_an_import_of_that_serial_number(StoreProvider provider)
    {
        await using var device = await DeviceAsync(provider, "CTS-AP6", readsUntilDone: 100);
        await device.AskAsync(device.World.Directory, device.Job, "SN-AP6-OLD");

        await device.AskAsync(device.World.AnotherReplicasDirectory(), device.Job, "SN-AP6-NEW");

        Assert.Equal(2, device.World.ImportsStarted);
        Assert.Equal("SN-AP6-NEW", (await device.World.JobAsync(device.Job.Id)).AutopilotImportSerial);
    }

    /// <summary>
    /// A world on <paramref name="provider"/> with the mapping of the device <paramref name="name"/> and its leased Register
    /// Windows Autopilot job; an import there stays processing for <paramref name="readsUntilDone"/> status reads.
    /// </summary>
    private static async Task<Device> DeviceAsync(StoreProvider provider, string name, int readsUntilDone = 2)
    {
        var world = await EntraIdWorld.StartAsync(provider);
        world.Destination.ImportReadsUntilDone = readsUntilDone;
        var (project, mapping) = await world.MappingAsync(name, name.Replace("CTS", "FAB", StringComparison.Ordinal));
        return new Device(world, project, mapping, await world.AutopilotJobAsync(mapping));
    }

    private sealed record Device(EntraIdWorld World, Project Project, Mapping Mapping, Job Job) : IAsyncDisposable
    {
        /// <summary>The agent's ask for the Autopilot import of <paramref name="serialNumber"/>, under <paramref name="job"/>'s lease.</summary>
        public Task<DirectoryActionAnswer> AskAsync(IMigrationDirectory directory, Job job, string serialNumber) =>
            directory.RunActionAsync(job.Id, Project, Mapping, new DirectoryActionRequest
            {
                LeaseToken = job.LeaseToken!.Value,
                Action = DirectoryAction.ImportAutopilotDevice,
                SerialNumber = serialNumber,
                HardwareHash = HardwareHash,
            }, CancellationToken.None);

        /// <summary>Asks (each time through a directory <paramref name="directory"/> gives) until the import is over, ten times at most.</summary>
        public async Task<DirectoryActionAnswer> AskWhilePendingAsync(Func<IMigrationDirectory> directory, Job job, string serialNumber)
        {
            var answer = await AskAsync(directory(), job, serialNumber);
            for (var i = 0; i < 10 && answer.State == DirectoryActionState.Pending; i++)
            {
                answer = await AskAsync(directory(), job, serialNumber);
            }
            return answer;
        }

        public ValueTask DisposeAsync() => World.DisposeAsync();
    }
}
