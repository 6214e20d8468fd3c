using System.Security.Cryptography;

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

/// <summary>
/// Enrollment: a source connection's configuration key, the device's facts, and the proof of the device's key
/// (<see cref="DeviceProof.ForEnrollment"/>; required).
/// </summary>
public sealed record EnrollRequest(string ConfigurationKey, DeviceFacts Device, DeviceProof? Proof = null)
{
    /// <summary>An enrollment proved with a key in memory (the agent signs with its device key instead, which never leaves the OS).</summary>
    public static EnrollRequest Signed(string configurationKey, DeviceFacts device, ECDsa key, string hardwareId, DateTimeOffset signedAt) =>
        new(configurationKey, device, DeviceProof.ForEnrollment(configurationKey, device.DeviceName, key.ExportSubjectPublicKeyInfo(), hardwareId, signedAt,
            data => key.SignData(data, HashAlgorithmName.SHA256)));
}

/// <summary>
/// The agent's own credential (shown once) and the mapping it was linked to by device name, if any. When the
/// device already has an agent with another key the enrollment is held (HTTP 202): no credential until an
/// administrator approves it; the agent asks again with the same key, and gets its credential once approved.
/// </summary>
public sealed record EnrollResponse(Guid AgentId, string? Credential, Guid? MappingId, bool AwaitingApproval = false);
