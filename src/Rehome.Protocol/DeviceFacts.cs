namespace Rehome.Protocol;

/// <summary>How a device belongs to a directory.</summary>
public enum DeviceJoinType
{
    Workgroup,
    ActiveDirectory,
    HybridEntraId,
    EntraId,
}

/// <summary>What an agent tells the server about its device, at enrollment and whenever it changes.</summary>
public sealed record DeviceFacts
{
    public required string DeviceName { get; init; }

    public required string OsVersion { get; init; }

    public required string AgentVersion { get; init; }

    public DeviceJoinType JoinType { get; init; }

    /// <summary>The Active Directory domain's DNS name, when joined to one.</summary>
    public string? DomainName { get; init; }

    /// <summary>The Entra ID tenant, when registered in one.</summary>
    public string? TenantId { get; init; }

    /// <summary>The device's Entra ID device id, when registered.</summary>
    public string? EntraDeviceId { get; init; }

    public IReadOnlyList<string> LoggedOnUsers { get; init; } = [];

    /// <summary>The SIDs of the device's user profiles, so a readiness check can tell whether each one maps.</summary>
    public IReadOnlyList<string> ProfileSids { get; init; } = [];

    /// <summary>Free space on the system drive, in bytes (a profile migration needs room for its journal and backups).</summary>
    public long? FreeDiskSpaceBytes { get; init; }
}

/// <summary>Enrollment: a source connection's configuration key and the device's facts.</summary>
public sealed record EnrollRequest(string ConfigurationKey, DeviceFacts Device);

/// <summary>The agent's own credential (shown once) and the mapping it was linked to by device name, if any.</summary>
public sealed record EnrollResponse(Guid AgentId, string Credential, Guid? MappingId);
