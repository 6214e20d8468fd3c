using System.Text.Json.Nodes;
using Rehome.Agent.Platform.Simulated;
using Rehome.Core.Runs;

namespace Rehome.EndToEnd.Tests;

/// <summary>
/// Migrate permissions over every area with the real server and a real agent on a simulated device: a dry run that
/// changes nothing but counts each area, the migration itself, and the revert of the finished job, asked for
/// through the API, restoring every area byte for byte.
/// </summary>
public sealed class ReaclEndToEndTests
{
    private static readonly string[] EveryArea =
        ["Files", "Registry", "UserHives", "Shares", "Services", "Printers", "ScheduledTasks", "LocalGroups", "UserRights"];

    [Fact]
    public async Task A_dry_run_then_the_migration_then_its_revert_each_report_every_area_and_the_revert_restores_the_device_byte_for_byte()
    {
        await using var world = await LiveWorld.StartAsync(1, [JobKind.RejoinDomain, JobKind.MigratePermissions]);
        world.Fleet.StartAll();
        var rejoin = await world.WaitForRunAsync(await world.RunAsync(JobKind.RejoinDomain));
        Assert.Equal(JobStatus.Finished, LiveWorld.StatusOf(rejoin.Single()));
        var before = Snapshot(world.Device(1).DeviceFolder);

        var preview = (await world.WaitForRunAsync(await StartAsync(world, dryRun: true))).Single();

        Assert.Equal(JobStatus.Finished, LiveWorld.StatusOf(preview));
        Assert.True((bool)preview["dryRun"]!);
        Assert.Equal(before, Snapshot(world.Device(1).DeviceFolder));
        var wouldChange = Areas(preview);
        Assert.Equal(EveryArea.Order(), wouldChange.Keys.Order());
        Assert.All(wouldChange.Values, a => Assert.Null(a.Problem));

        var migration = (await world.WaitForRunAsync(await StartAsync(world, dryRun: false))).Single();

        Assert.Equal(JobStatus.Finished, LiveWorld.StatusOf(migration));
        var changed = Areas(migration);
        // The dry run said what the migration then did, area by area.
        Assert.Equal(wouldChange.ToDictionary(a => a.Key, a => a.Value.Changed), changed.ToDictionary(a => a.Key, a => a.Value.Changed));
        Assert.All(EveryArea, a => Assert.True(changed[a].Changed > 0, $"{a} changed nothing"));
        Assert.NotEqual(before, Snapshot(world.Device(1).DeviceFolder));

        var asked = await world.Api.PostAsync($"/api/v1/jobs/{(string)migration["id"]!}/revert", new { }, CancellationToken.None);
        var revert = (await world.WaitForRunAsync(Guid.Parse((string)asked["run"]!["id"]!))).Single();

        Assert.Equal(JobStatus.Finished, LiveWorld.StatusOf(revert));
        Assert.Equal((string)migration["id"]!, (string)revert["revertOf"]!);
        Assert.Equal(before, Snapshot(world.Device(1).DeviceFolder));
        var restored = Areas(revert);
        Assert.All(changed.Where(a => a.Value.Changed > 0), a => Assert.Equal(a.Value.Changed, restored[a.Key].Changed));
        var report = await world.Api.GetAsync($"/api/v1/mappings/{world.MappingOf(1)}/report", CancellationToken.None);
        Assert.Contains(report["log"]!.AsArray(), l => ((string)l!["text"]!).StartsWith("Re-ACL of Shares", StringComparison.Ordinal));
    }

    private static async Task<Guid> StartAsync(LiveWorld world, bool dryRun)
    {
        var answer = await world.Api.PostAsync($"/api/v1/projects/{world.Scenario.ProjectId}/runs",
            new { kinds = new[] { "MigratePermissions" }, mappingIds = new[] { world.MappingOf(1) }, dryRun }, CancellationToken.None);
        return Guid.Parse((string)answer["run"]!["id"]!);
    }

    private static Dictionary<string, (int Seen, int Changed, int Failed, string? Problem)> Areas(JsonNode job) =>
        job["areas"]!.AsArray().ToDictionary(a => (string)a!["area"]!, a => ((int)a!["seen"]!, (int)a["changed"]!, (int)a["failed"]!, (string?)a["problem"]));

    /// <summary>
    /// Everything a permissions job may change on the simulated device: descriptors, hives, the area files, and the
    /// device's own state minus what an agent's life changes by itself (boot counts, steps seen).
    /// </summary>
    private static SortedDictionary<string, string> Snapshot(string deviceFolder)
    {
        var snapshot = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in System.IO.Directory.EnumerateFiles(deviceFolder, "*", SearchOption.AllDirectories))
        {
            var name = Path.GetRelativePath(deviceFolder, file);
            var atTop = Path.GetDirectoryName(name) == "";
            if (name.StartsWith("acl", StringComparison.Ordinal) || (name.StartsWith("hives", StringComparison.Ordinal) && !name.EndsWith("loaded.json", StringComparison.Ordinal))
                || (atTop && name.EndsWith(".json", StringComparison.Ordinal) && name != "device.json"))
            {
                snapshot[name] = Convert.ToBase64String(File.ReadAllBytes(file));
            }
        }
        snapshot["device.json: LocalAdministrators"] = string.Join(",", new SimulatedDeviceStateFile(deviceFolder).Read().LocalAdministrators);
        return snapshot;
    }
}
