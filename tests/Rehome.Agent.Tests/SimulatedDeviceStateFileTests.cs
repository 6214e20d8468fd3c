using Rehome.Agent.Journal;
using Rehome.Agent.Platform.Simulated;

namespace Rehome.Agent.Tests;

/// <summary>
/// The simulated device's state is kept between reads (a fleet process reads it several times a step): what every
/// opener of the device sees stays the file's content, whoever wrote it.
/// </summary>
public sealed class SimulatedDeviceStateFileTests : IDisposable
{
    private readonly DeviceFixture device = new();

    private string DeviceFolder => Path.Combine(device.Folder, "device");

    [Fact]
    public void A_change_through_one_opener_is_seen_by_another_of_the_same_device()
    {
        var first = new SimulatedDeviceStateFile(DeviceFolder);
        var second = new SimulatedDeviceStateFile(DeviceFolder);
        var boots = second.Read().BootCount;

        first.Change(s => s with { BootCount = s.BootCount + 1 });

        Assert.Equal(boots + 1, second.Read().BootCount);
        Assert.Equal(boots + 1, DurableFile.ReadJson<SimulatedDeviceState>(first.Path)!.BootCount);
    }

    [Fact]
    public void A_file_written_by_someone_else_is_read_again()
    {
        var state = new SimulatedDeviceStateFile(DeviceFolder);
        var before = state.Read();

        // Another process (the rehearsal's checks, a person) rewrites the file behind the kept state's back.
        DurableFile.WriteJson(state.Path, before with { ComputerName = "ELSEWHERE-PC00001" });

        Assert.Equal("ELSEWHERE-PC00001", state.Read().ComputerName);
        Assert.Equal("ELSEWHERE-PC00001", state.Change(s => s with { BootCount = s.BootCount + 1 }).ComputerName);
    }

    [Fact]
    public void A_change_that_changes_nothing_leaves_the_file_alone()
    {
        var state = new SimulatedDeviceStateFile(DeviceFolder);
        var written = File.GetLastWriteTimeUtc(state.Path);
        var content = File.ReadAllBytes(state.Path);
        File.SetLastWriteTimeUtc(state.Path, written.AddMinutes(-5));

        state.Change(s => s);

        Assert.Equal(written.AddMinutes(-5), File.GetLastWriteTimeUtc(state.Path));
        Assert.Equal(content, File.ReadAllBytes(state.Path));
    }

    public void Dispose() => device.Dispose();
}
