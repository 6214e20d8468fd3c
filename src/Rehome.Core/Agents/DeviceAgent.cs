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

    /// <summary>Set when an administrator revoked the agent: every later call is refused.</summary>
    public DateTimeOffset? RevokedAt { get; set; }

    public string? RevokedBy { get; set; }
}
