namespace Rehome.Core.Agents;

/// <summary>An enrolled agent: one per device, with its own credential (only its hash is kept).</summary>
public sealed class DeviceAgent
{
    public Guid Id { get; set; }

    /// <summary>The source connection whose configuration key enrolled it.</summary>
    public Guid ConnectionId { get; set; }

    public required string DeviceName { get; set; }

    /// <summary>Upper-case device name, as mappings key their source device.</summary>
    public required string DeviceKey { get; set; }

    public required string CredentialHash { get; set; }

    public string OsVersion { get; set; } = "";

    public string AgentVersion { get; set; } = "";

    /// <summary>The last update the agent reported: <c>Updated</c>, <c>RolledBack</c> or <c>Refused</c>, with its versions and why.</summary>
    public string? UpdateOutcome { get; set; }

    public string? UpdateMessage { get; set; }

    public DateTimeOffset? UpdateReportedAt { get; set; }

    public string JoinType { get; set; } = "";

    public string? DomainName { get; set; }

    public string? TenantId { get; set; }

    public string? EntraDeviceId { get; set; }

    /// <summary>Logged-on users, comma-separated, as last reported.</summary>
    public string LoggedOnUsers { get; set; } = "";

    /// <summary>The SIDs of the device's user profiles, comma-separated, as last reported.</summary>
    public string ProfileSids { get; set; } = "";

    /// <summary>Free space on the system drive, as last reported.</summary>
    public long? FreeDiskSpaceBytes { get; set; }

    public DateTimeOffset EnrolledAt { get; set; }

    public DateTimeOffset LastSeenAt { get; set; }

    /// <summary>Whether the agent may work: held enrollments wait for an administrator and hold no credential.</summary>
    public AgentApproval Approval { get; set; }

    /// <summary>The device key the agent proved (ECDSA P-256 SubjectPublicKeyInfo, base64); null for agents enrolled before keys.</summary>
    public string? PublicKey { get; set; }

    /// <summary>The hardware identity the device reported with its proof (SMBIOS UUID on Windows); shown, never trusted alone.</summary>
    public string? HardwareId { get; set; }

    /// <summary>The time of the newest proof taken for this agent: a proof must be newer, so a replayed request is refused.</summary>
    public DateTimeOffset? ProofSignedAt { get; set; }

    /// <summary>The client address the enrollment came from (shown with a held enrollment).</summary>
    public string? EnrolledFrom { get; set; }

    /// <summary>Set when an administrator revoked the agent: every later call is refused.</summary>
    public DateTimeOffset? RevokedAt { get; set; }

    public string? RevokedBy { get; set; }

    /// <summary>Set when an administrator told the agent to uninstall itself; it learns it at its next poll.</summary>
    public DateTimeOffset? UninstallRequestedAt { get; set; }

    public string? UninstallRequestedBy { get; set; }

    /// <summary>Set when the agent confirmed it removed its data (its credential is revoked with it); the row stays in the list.</summary>
    public DateTimeOffset? UninstalledAt { get; set; }
}

/// <summary>Whether an enrolled agent may work for its device.</summary>
public enum AgentApproval
{
    /// <summary>The device's agent (every agent enrolled before approvals existed is one).</summary>
    Active,

    /// <summary>Enrolled for a device that already has an agent with another key: waits for an administrator.</summary>
    AwaitingApproval,

    /// <summary>An administrator refused it; the same key is refused again for this device.</summary>
    Refused,
}
