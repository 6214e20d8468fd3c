namespace Rehome.Protocol;

/// <summary>
/// What an administrator's "uninstall" looks like on the wire. The poll answers <see cref="PollStatus"/> (205 Reset
/// Content, no body) instead of a job once the agent was told to uninstall and has no job to start; the agent then
/// removes itself at a safe point and confirms with <see cref="ConfirmPath"/>, its last authenticated call.
/// </summary>
public static class AgentUninstall
{
    /// <summary>The poll's answer that tells the agent to uninstall itself: distinct from 200 (a job) and 204 (nothing yet).</summary>
    public const int PollStatus = 205;

    /// <summary>POST, with an <see cref="UninstallReport"/>; 204 once taken (the credential is revoked with it).</summary>
    public const string ConfirmPath = "uninstalled";
}

/// <summary>What the agent removed before it confirms; names from a closed list, so nothing free-form reaches the audit.</summary>
public sealed record UninstallReport
{
    public List<UninstalledPart> Removed { get; init; } = [];
}

/// <summary>A part of the agent on the device that an uninstall removes.</summary>
public enum UninstalledPart
{
    Journals,
    Logs,
    DeviceKey,
    Credential,
    Service,
    Files,
}
