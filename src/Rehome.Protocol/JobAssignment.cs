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

    /// <summary>
    /// The local administrator the source connection asks for on each device during a rejoin (created before the
    /// device leaves its source, removed when the job ends); null when the connection asks for none.
    /// </summary>
    public BreakGlassAccount? BreakGlass { get; init; }

    /// <summary>Permissions and profile jobs: count what would change in each area, change nothing.</summary>
    public bool DryRun { get; init; }

    /// <summary>
    /// Set when this job reverts an earlier, finished job of the same kind on this device: the agent restores
    /// what that job's journals recorded, area by area, instead of running the job's steps.
    /// </summary>
    public Guid? RevertOf { get; init; }
}

/// <summary>A local administrator account that keeps a device reachable while it belongs to no domain.</summary>
public sealed record BreakGlassAccount(string UserName, string Password)
{
    /// <summary>Never printed: the password is a secret.</summary>
    public override string ToString() => $"BreakGlassAccount {{ UserName = {UserName} }}";
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

    /// <summary>The areas beyond file and registry paths that the permissions job migrates (the policy's areas minus those to ignore).</summary>
    public DeviceAreas Areas { get; init; }

    /// <summary>Hybrid Identity: how long the job waits after the restart for the device's Entra ID registration.</summary>
    public int HybridRegistrationWaitSeconds { get; init; } = 3600;
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
    /// Active Directory offline: the offline join blob (djoin), base64, made by the server for this device and
    /// this job. Null for online joins and for Entra ID (its package is downloaded, see <see cref="PackageBytes"/>).
    /// </summary>
    public string? ProvisioningData { get; init; }

    /// <summary>
    /// Active Directory online: the one-time password of the computer account the server created for this device.
    /// The agent joins with it (an unsecure join with the machine password passed): no directory credential
    /// ever reaches the device.
    /// </summary>
    public string? OneTimePassword { get; init; }

    /// <summary>
    /// Entra ID offline: the size of the bulk enrollment provisioning package, which the agent downloads with its
    /// lease (<c>GET jobs/{id}/package/{purpose}</c>); null when there is none.
    /// </summary>
    public long? PackageBytes { get; init; }

    /// <summary>Never printed: the join data and password are secrets.</summary>
    public override string ToString() => $"DestinationJoin {{ Kind = {Kind}, Offline = {Offline}, Domain = {DomainDnsName}, Tenant = {TenantId}, ComputerName = {ComputerName} }}";
}

/// <summary>Which join a provisioning package is for.</summary>
public enum JoinPurpose
{
    /// <summary>The destination of the rejoin.</summary>
    Destination,

    /// <summary>The return ticket: the way back into the source when the destination join cannot complete.</summary>
    Return,
}

/// <summary>
/// The agent asks, right before the device leaves its source, for its return ticket: the join data that puts
/// the device back into its source under its source name (offline join data for its own computer account, or
/// the source tenant's provisioning package). The server makes it then, not earlier, because making it resets
/// the source computer account's password and so ends the device's secure channel with its source.
/// </summary>
public sealed record ReturnTicketRequest(Guid LeaseToken, string ComputerName, DeviceJoinType JoinType, string? DomainName, string? TenantId);
