using Rehome.Protocol;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform;

/// <summary>
/// Everything the jobs do to a device, by concern. The Windows implementation calls Win32, WMI and the registry
/// through a thin native seam; the simulated one models a device in a folder. Every member is safe to call again
/// after a crash (the journal may replay the step that was running).
/// </summary>
public interface IDevicePlatform
{
    /// <summary>The facts the agent reports at enrollment and after changes.</summary>
    DeviceFacts ReadFacts(string agentVersion);

    /// <summary>Domain and tenant membership: what it is, the joins, the way back.</summary>
    IDeviceMembership Membership { get; }

    /// <summary>Boots, restarts, staying awake.</summary>
    IDevicePower Power { get; }

    /// <summary>Local Administrators and the break-glass account.</summary>
    ILocalAccounts Accounts { get; }

    /// <summary>ProfileList.</summary>
    IUserProfiles Profiles { get; }

    /// <summary>What a rejoin carries across besides membership: default apps, BitLocker keys, cached logons.</summary>
    IDeviceSettings Settings { get; }

    /// <summary>Files, folders and registry keys, by Windows paths (<c>C:\…</c>, <c>HKLM\…</c>).</summary>
    ISecurityStore SecurityStore { get; }

    /// <summary>The Re-ACL areas, files and registry included, opened one at a time.</summary>
    IDeviceAreas Areas { get; }

    Task<HardwareIdentity> GetHardwareIdentityAsync(CancellationToken ct);

    /// <summary>The device's own identity (hardware id and device key) that enrollment proves.</summary>
    Enrollment.IDeviceIdentity Identity { get; }
}

/// <summary>Where the simulated platform injects faults; the Windows platform has none.</summary>
public interface IStepFaults
{
    /// <summary>Called before and after each step's effect; may throw to fail the step or end the agent (a crash).</summary>
    Task AtStepAsync(string step, bool afterEffect, CancellationToken ct);
}
