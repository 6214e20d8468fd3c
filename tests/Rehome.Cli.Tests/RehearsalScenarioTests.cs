using Microsoft.Extensions.Logging.Abstractions;
using Rehome.Cli.Client;
using Rehome.Cli.Rehearsal;

namespace Rehome.Cli.Tests;

/// <summary>Where the rehearsal lays out its devices in memory: /dev/shm, which every local user can write.</summary>
public sealed class RehearsalScenarioTests
{
    private static readonly Uri Nowhere = new("http://127.0.0.1:9");

    [Fact]
    public async Task The_devices_folder_in_memory_is_made_for_this_user_alone_before_any_device_is_laid_out()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // No /dev/shm and no Unix modes there: the devices stay on disk.
        }
        var root = Path.Combine(Path.GetTempPath(), "rehome-cli-tests", Guid.NewGuid().ToString("N"));
        using var client = new RehomeApiClient(Nowhere, null);
        var scenario = new RehearsalScenario(client, root, new RehearsalOptions { Devices = 0, DevicesInMemory = true });
        try
        {
            await using var fleet = scenario.CreateFleet(Nowhere, NullLoggerFactory.Instance);

            var folder = Path.GetDirectoryName(scenario.DevicesRoot)!;
            // Right in /dev/shm (sticky: nobody else may rename it away), under a name nobody could make beforehand.
            Assert.Equal("/dev/shm", Path.GetDirectoryName(folder));
            Assert.NotEqual(folder, Path.GetDirectoryName(new RehearsalScenario(client, root, new RehearsalOptions { Devices = 0, DevicesInMemory = true }).DevicesRoot));
            Assert.Equal(RehearsalScenario.PrivateFolder, File.GetUnixFileMode(folder));
            Assert.Equal(RehearsalScenario.PrivateFolder, File.GetUnixFileMode(scenario.DevicesRoot));
        }
        finally
        {
            scenario.RemoveDevicesInMemory();
        }
        Assert.False(System.IO.Directory.Exists(Path.GetDirectoryName(scenario.DevicesRoot)));
    }

    [Fact]
    public void A_devices_folder_in_memory_open_to_other_users_is_refused()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // No /dev/shm and no Unix modes there: the devices stay on disk.
        }
        var root = Path.Combine(Path.GetTempPath(), "rehome-cli-tests", Guid.NewGuid().ToString("N"));
        using var client = new RehomeApiClient(Nowhere, null);
        var scenario = new RehearsalScenario(client, root, new RehearsalOptions { Devices = 0, DevicesInMemory = true });
        var folder = Path.GetDirectoryName(scenario.DevicesRoot)!;
        try
        {
            // Made beforehand, open to everybody (as another local user could): no secret goes there.
            System.IO.Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute);
            File.SetUnixFileMode(folder, (UnixFileMode)0b111_111_111);

            var refused = Assert.Throws<IOException>(() => scenario.CreateFleet(Nowhere, NullLoggerFactory.Instance));

            Assert.Contains("open to other users", refused.Message, StringComparison.Ordinal);
            Assert.False(System.IO.Directory.Exists(scenario.DevicesRoot) && System.IO.Directory.EnumerateFileSystemEntries(scenario.DevicesRoot).Any());
        }
        finally
        {
            scenario.RemoveDevicesInMemory();
        }
    }
}
