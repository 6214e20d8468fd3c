namespace Rehome.Core.Agents;

/// <summary>Why an agent may not be told to uninstall; a stable rule and a sentence.</summary>
public sealed record UninstallRefusal(string Rule, string Message);

/// <summary>
/// When an administrator may tell an agent to uninstall itself. The agent learns it at its next poll and acts only at a
/// safe point (no job held, nothing open in its journal); a job it holds finishes first. Pure.
/// </summary>
public static class UninstallRules
{
    public const string AgentRevoked = "AgentRevoked";
    public const string AgentNotActive = "AgentNotActive";
    public const string AgentUninstalled = "AgentUninstalled";
    public const string UninstallNotRequested = "UninstallNotRequested";

    /// <summary>Null when the agent may be told (again: asking twice changes nothing), else why not.</summary>
    public static UninstallRefusal? CheckRequest(DeviceAgent agent)
    {
        ArgumentNullException.ThrowIfNull(agent);
        if (agent.UninstalledAt is { } at)
        {
            return new(AgentUninstalled, $"The agent of {agent.DeviceName} uninstalled itself at {at:u}.");
        }
        if (agent.RevokedAt is not null)
        {
            // Its credential is refused: it would never hear the request. Removing it from the device is manual now.
            return new(AgentRevoked, $"The agent of {agent.DeviceName} is revoked and can no longer hear the server; uninstall it on the device (rehome-agent uninstall).");
        }
        return agent.Approval != AgentApproval.Active
            ? new(AgentNotActive, $"The agent of {agent.DeviceName} is an enrollment awaiting approval or refused; approve or refuse it instead.")
            : null;
    }

    /// <summary>Null when the agent's confirmation that it removed itself is taken, else why not.</summary>
    public static UninstallRefusal? CheckConfirmation(DeviceAgent agent)
    {
        ArgumentNullException.ThrowIfNull(agent);
        return agent.UninstallRequestedAt is null
            ? new(UninstallNotRequested, "Nobody asked this agent to uninstall itself.")
            : null;
    }
}
