namespace Rehome.Protocol;

/// <summary>The five jobs, as the agent knows them (same names and numbers as the server's job kinds).</summary>
public enum AgentJobKind
{
    RejoinDomain = 1,
    MigratePermissions = 2,
    MigrateUserProfile = 3,
    MigrateEntraIdGroups = 4,
    RegisterAutopilot = 5,
}

/// <summary>
/// A leased job and everything the device needs for it, and nothing more: secrets of the connections stay on
/// the server; an offline join blob is for this device and this job only.
/// </summary>
public sealed record JobAssignment
{
    public required Guid JobId { get; init; }

    public required Guid RunId { get; init; }

    /// <summary>Every write about the job carries it; a write with a stale token gets 409 and changes nothing.</summary>
    public required Guid LeaseToken { get; init; }

    public required AgentJobKind Kind { get; init; }

    /// <summary>How long the lease lasts without a renewal.</summary>
    public required int LeaseSeconds { get; init; }

    /// <summary>1 for the first lease of the job; more when an earlier lease lapsed (a restart, an outage).</summary>
    public int Attempt { get; init; } = 1;

    public required MappingTarget Mapping { get; init; }

    public required JobPolicy Policy { get; init; }

    /// <summary>Where and how the device joins (rejoin jobs only).</summary>
    public DestinationJoin? Join { get; init; }
}

/// <summary>The mapping the job works on.</summary>
public sealed record MappingTarget(string SourceDevice, string DestinationName, string? DestinationOu, string? PrimaryUser, string? DestinationUser);

/// <summary>The parts of the migration policy the device applies.</summary>
public sealed record JobPolicy
{
    /// <summary>Whether the job starts by itself once <see cref="ForceAfterSeconds"/> have passed since the first prompt.</summary>
    public bool ForcedStart { get; init; } = true;

    public bool SnoozeAllowed { get; init; } = true;

    public int ForceAfterSeconds { get; init; } = 4 * 3600;

    /// <summary>Run without showing anything to the user.</summary>
    public bool Silent { get; init; }

    public bool CacheUserCredentials { get; init; } = true;

    public ReaclMode ReaclMode { get; init; } = ReaclMode.Replace;

    public IReadOnlyList<string> FileSystemPaths { get; init; } = [];

    public IReadOnlyList<string> RegistryKeys { get; init; } = [];

    public IReadOnlyList<string> IgnoredFileSystemPaths { get; init; } = [];

    public IReadOnlyList<string> IgnoredRegistryKeys { get; init; } = [];
}

/// <summary>What the Re-ACL does with an ACE naming a source identity.</summary>
public enum ReaclMode
{
    Replace,
    Add,
    Remove,
}

/// <summary>How a rejoin reaches the destination.</summary>
public enum JoinKind
{
    ActiveDirectory,
    HybridIdentity,
    EntraId,
}

/// <summary>The destination side of a rejoin, prepared by the server.</summary>
public sealed record DestinationJoin
{
    public required JoinKind Kind { get; init; }

    public bool Offline { get; init; }

    /// <summary>The destination domain's DNS name (Active Directory and Hybrid Identity).</summary>
    public string? DomainDnsName { get; init; }

    /// <summary>The destination tenant (Entra ID).</summary>
    public string? TenantId { get; init; }

    /// <summary>The computer name in the destination.</summary>
    public required string ComputerName { get; init; }

    public string? OrganizationalUnit { get; init; }

    /// <summary>
    /// The offline join blob (djoin) or the bulk-enrollment provisioning package, base64, made by the server
    /// for this device; null for online joins.
    /// </summary>
    public string? ProvisioningData { get; init; }
}
