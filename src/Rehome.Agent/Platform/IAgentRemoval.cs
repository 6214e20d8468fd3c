using Rehome.Protocol;

namespace Rehome.Agent.Platform;

/// <summary>
/// What only the platform can remove when the agent uninstalls itself: its device key (kept where the platform keeps
/// keys) and the agent itself (on Windows its service and files; on a simulated device, flags in its folder). The
/// agent's state folder (journals, logs, identity) is removed above this seam.
/// </summary>
public interface IAgentRemoval
{
    /// <summary>Deletes the device key; false when there was none (or this platform cannot reach it).</summary>
    bool RemoveDeviceKey();

    /// <summary>
    /// Removes the agent: called last, once the server has the confirmation. The running process may not delete its own
    /// files: the platform has them removed once it exits. Answers what it removed (or scheduled).
    /// </summary>
    IReadOnlyList<UninstalledPart> RemoveSelf();
}

/// <summary>A platform that cannot remove the agent (an agent started by hand): the state folder still goes; the rest is left to whoever started it.</summary>
public sealed class NoAgentRemoval : IAgentRemoval
{
    public static NoAgentRemoval Instance { get; } = new();

    public bool RemoveDeviceKey() => false;

    public IReadOnlyList<UninstalledPart> RemoveSelf() => [];
}
