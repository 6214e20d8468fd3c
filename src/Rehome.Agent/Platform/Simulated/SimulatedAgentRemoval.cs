using Rehome.Agent.Enrollment;
using Rehome.Agent.Journal;
using Rehome.Protocol;

namespace Rehome.Agent.Platform.Simulated;

/// <summary>What an uninstall did to a simulated device: flags in its folder that the tests and the rehearsal read.</summary>
public sealed record SimulatedRemoval
{
    public bool DeviceKeyRemoved { get; init; }

    /// <summary>The service is deleted and the agent's files are gone (on Windows: scheduled once the process exits).</summary>
    public bool AgentRemoved { get; init; }

    public DateTimeOffset? RemovedAt { get; init; }
}

/// <summary>The simulated device's side of an uninstall: its device key file goes, and the agent's removal is a flag.</summary>
public sealed class SimulatedAgentRemoval(string deviceFolder, TimeProvider time) : IAgentRemoval
{
    private const string FileName = "agent-removal.json";

    /// <summary>What the device's agent removed of itself so far; null before any uninstall.</summary>
    public static SimulatedRemoval? Read(string deviceFolder) => DurableFile.ReadJson<SimulatedRemoval>(Path.Combine(deviceFolder, FileName));

    public string? DataRoot => null;

    public bool RemoveDeviceKey()
    {
        var key = Path.Combine(deviceFolder, FolderDeviceIdentity.KeyFileName);
        var existed = File.Exists(key);
        File.Delete(key);
        Save((Read(deviceFolder) ?? new SimulatedRemoval()) with { DeviceKeyRemoved = true });
        return existed;
    }

    public IReadOnlyList<UninstalledPart> RemoveSelf()
    {
        Save((Read(deviceFolder) ?? new SimulatedRemoval()) with { AgentRemoved = true, RemovedAt = time.GetUtcNow() });
        return [UninstalledPart.Service, UninstalledPart.Files];
    }

    private void Save(SimulatedRemoval removal) => DurableFile.WriteJson(Path.Combine(deviceFolder, FileName), removal);
}
