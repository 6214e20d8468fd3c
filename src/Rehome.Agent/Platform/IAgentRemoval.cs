using Rehome.Protocol;

namespace Rehome.Agent.Platform;

/// <summary>
/// What only the platform can remove when the agent uninstalls itself: its device key (kept where the platform keeps
/// keys) and the agent itself (on Windows its service and files; on a simulated device, flags in its folder), and
/// where the agent's data live beside its state folder. The state folder and the data root are removed above this seam.
/// </summary>
public interface IAgentRemoval
{
    /// <summary>
    /// The folder that holds the agent's data besides its state folder (on Windows <c>%ProgramData%\Rehome</c>: settings,
    /// join staging, logs, the state folder itself), removed whole as the local uninstall removes it; null when the
    /// state folder is all there is.
    /// </summary>
    string? DataRoot { get; }

    /// <summary>Deletes the device key; false when there was none (or this platform cannot reach it).</summary>
    bool RemoveDeviceKey();

    /// <summary>
    /// Removes the agent: called last, once the server has the confirmation. The running process may not delete its own
    /// files: the platform has them removed once it exits. Answers what it removed (or scheduled), nothing more.
    /// </summary>
    IReadOnlyList<UninstalledPart> RemoveSelf();
}

/// <summary>A platform that cannot remove the agent (an agent started by hand): the state folder still goes; the rest is left to whoever started it.</summary>
public sealed class NoAgentRemoval : IAgentRemoval
{
    public static NoAgentRemoval Instance { get; } = new();

    public string? DataRoot => null;

    public bool RemoveDeviceKey() => false;

    public IReadOnlyList<UninstalledPart> RemoveSelf() => [];
}
