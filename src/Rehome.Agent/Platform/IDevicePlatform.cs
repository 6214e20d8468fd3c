using Rehome.Protocol;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform;

/// <summary>Where a device belongs now; what a rejoin records so that it can go back.</summary>
public sealed record DeviceMembership
{
    public required string ComputerName { get; init; }

    public DeviceJoinType JoinType { get; init; }

    public string? DomainName { get; init; }

    public string? TenantId { get; init; }

    public string? EntraDeviceId { get; init; }
}

/// <summary>A user profile as ProfileList holds it.</summary>
public sealed record UserProfile(string Sid, string ProfileImagePath);

/// <summary>What identifies the device to Autopilot.</summary>
public sealed record HardwareIdentity(string SerialNumber, string HardwareHash);

/// <summary>
/// Everything the jobs do to a device. The Windows implementation calls Win32, WMI and the registry; the
/// simulated one models a device in a folder. Every method is safe to call again after a crash (the journal
/// may replay the step that was running).
/// </summary>
public interface IDevicePlatform
{
    /// <summary>The facts the agent reports at enrollment and after changes.</summary>
    DeviceFacts ReadFacts(string agentVersion);

    Task<DeviceMembership> GetMembershipAsync(CancellationToken ct);

    /// <summary>
    /// Makes the destination join ready without leaving the source: checks the offline join data (or that the
    /// destination answers, online) and stages it. Nothing changes for the user yet.
    /// </summary>
    Task PrepareJoinAsync(DestinationJoin join, CancellationToken ct);

    /// <summary>Leaves the source domain or tenant (keeping cached credentials when the policy says so).</summary>
    Task LeaveSourceAsync(DeviceMembership source, bool keepCachedCredentials, CancellationToken ct);

    /// <summary>Joins the destination with the staged data, under the destination computer name.</summary>
    Task JoinDestinationAsync(DestinationJoin join, CancellationToken ct);

    /// <summary>Goes back to <paramref name="previous"/> (the rollback of a rejoin).</summary>
    Task RestoreMembershipAsync(DeviceMembership previous, CancellationToken ct);

    /// <summary>How many times the device has started; a restart is done when this has grown.</summary>
    long BootCount { get; }

    /// <summary>Restarts the device. The agent's process ends here; the journal takes over at the next start.</summary>
    Task RestartAsync(string reason, CancellationToken ct);

    /// <summary>Files, folders and registry keys, by Windows paths (<c>C:\…</c>, <c>HKLM\…</c>).</summary>
    ISecurityStore SecurityStore { get; }

    /// <summary>Members of the local Administrators group (SIDs).</summary>
    Task<IReadOnlyList<string>> GetLocalAdministratorsAsync(CancellationToken ct);

    Task AddLocalAdministratorAsync(string sid, CancellationToken ct);

    Task RemoveLocalAdministratorAsync(string sid, CancellationToken ct);

    Task<IReadOnlyList<UserProfile>> GetProfilesAsync(CancellationToken ct);

    /// <summary>Points a ProfileList entry for <paramref name="sid"/> at <paramref name="profileImagePath"/> (creating it).</summary>
    Task SetProfileAsync(string sid, string profileImagePath, CancellationToken ct);

    /// <summary>Removes the ProfileList entry of <paramref name="sid"/>, if any.</summary>
    Task RemoveProfileAsync(string sid, CancellationToken ct);

    Task<HardwareIdentity> GetHardwareIdentityAsync(CancellationToken ct);
}

/// <summary>What the user answered to "your device will move to a new organisation".</summary>
public enum PromptAnswer
{
    StartNow,
    Snooze,

    /// <summary>Nobody answered in time (or nobody is logged on).</summary>
    NoAnswer,
}

/// <summary>The interactive side of a device: notifying, asking, locking.</summary>
public interface IUserSession
{
    IReadOnlyList<string> LoggedOnUsers { get; }

    Task NotifyAsync(string message, CancellationToken ct);

    /// <summary>Asks to start now or snooze; waits at most <paramref name="timeout"/>.</summary>
    Task<PromptAnswer> AskToStartAsync(string message, bool snoozeAllowed, TimeSpan timeout, CancellationToken ct);

    /// <summary>Locks every session so nobody works on the device while it changes.</summary>
    Task LockAsync(CancellationToken ct);

    Task UnlockAsync(CancellationToken ct);
}

/// <summary>Where the simulated platform injects faults; the Windows platform has none.</summary>
public interface IStepFaults
{
    /// <summary>Called before and after each step's effect; may throw to fail the step or end the agent (a crash).</summary>
    Task AtStepAsync(string step, bool afterEffect, CancellationToken ct);
}
