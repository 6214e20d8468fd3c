using Rehome.Agent.Updates;

namespace Rehome.Agent.Platform;

/// <summary>The agent hands over to another version of itself: this process ends, the installed version starts.</summary>
public sealed class AgentHandedOverException(string reason) : AgentTerminatedException(reason);

/// <summary>
/// The agent's own files and service: the thin seam under self-update. The decisions (when, which package, verified
/// how, when to give up on a new version) are in <see cref="UpdateDecisions"/>; this only does what they decide.
/// Windows: the service and its folder; simulated: an installed version in the device's folder.
/// </summary>
public interface IAgentInstallation
{
    /// <summary>The version installed, which is the one running.</summary>
    string InstalledVersion { get; }

    /// <summary>
    /// Called first at each start. Windows: nothing. Simulated: a version the device's faults make fail never gets
    /// to check in; it hangs here while the watchdog waits out its deadline and restores the previous version.
    /// </summary>
    Task StartingAsync(UpdateState state, CancellationToken ct);

    /// <summary>
    /// Installs the verified package unpacked in <paramref name="stagedFolder"/> in place of the running version, keeps
    /// the running one for a rollback, starts the new one and sets a watchdog on it (<see cref="UpdateWatchdog"/>).
    /// Ends this process's work with <see cref="AgentHandedOverException"/>.
    /// </summary>
    Task HandOverAsync(UpdateRecord record, string stagedFolder, UpdateState state, CancellationToken ct);

    /// <summary>The new version checked in: the previous version kept for a rollback may go.</summary>
    Task CommitAsync(UpdateRecord record, CancellationToken ct);

    /// <summary>Puts the previous version back and starts it (the watchdog's rollback).</summary>
    Task RestorePreviousAsync(UpdateRecord record, CancellationToken ct);
}
