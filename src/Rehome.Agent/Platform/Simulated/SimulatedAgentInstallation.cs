using Rehome.Agent.Polling;
using Rehome.Agent.Updates;

namespace Rehome.Agent.Platform.Simulated;

/// <summary>
/// The agent's installation on a simulated device: the installed version is in <c>device.json</c>; a hand-over
/// installs the new version and ends the runtime (the fleet starts the next one, now of the new version); a version
/// listed in <see cref="SimulatedFaults.FailingAgentVersions"/> never checks in: its start hangs while the watchdog
/// (the same code the Windows helper runs) waits out the deadline and restores the previous version.
/// </summary>
public sealed class SimulatedAgentInstallation(string deviceFolder, TimeProvider time, ILogger logger) : IAgentInstallation
{
    private readonly SimulatedDeviceStateFile state = new(deviceFolder);

    public string InstalledVersion => state.Read().AgentVersion ?? AgentRuntime.Version;

    public async Task StartingAsync(UpdateState update, CancellationToken ct)
    {
        var device = state.Read();
        if (!device.Faults.FailingAgentVersions.Contains(InstalledVersion, StringComparer.OrdinalIgnoreCase)
            || update.Load() is not { Phase: UpdatePhase.HandedOver })
        {
            return;
        }
        logger.LogWarning("Simulated: version {Version} never checks in", InstalledVersion);
        if (await UpdateWatchdog.RunAsync(update, this, time, logger, ct))
        {
            throw new AgentHandedOverException($"The watchdog restored version {InstalledVersion}.");
        }
    }

    public Task HandOverAsync(UpdateRecord record, string stagedFolder, UpdateState update, CancellationToken ct)
    {
        Install(record.ToVersion, keep: record.FromVersion);
        return Task.CompletedTask;
    }

    public Task CommitAsync(UpdateRecord record, CancellationToken ct)
    {
        state.Change(s => s with { PreviousAgentVersion = null });
        return Task.CompletedTask;
    }

    public Task RestorePreviousAsync(UpdateRecord record, CancellationToken ct)
    {
        Install(state.Read().PreviousAgentVersion ?? record.FromVersion, keep: null);
        return Task.CompletedTask;
    }

    private void Install(string version, string? keep) =>
        state.Change(s => s with { AgentVersion = version, PreviousAgentVersion = keep, AgentVersionHistory = [.. s.AgentVersionHistory, version] });
}
