using Rehome.Protocol;

namespace Rehome.Agent.Platform;

/// <summary>Where a device belongs now; what a rejoin records so that it can go back.</summary>
public sealed record DeviceMembership
{
    /// <summary>The name the device runs under now.</summary>
    public required string ComputerName { get; init; }

    public DeviceJoinType JoinType { get; init; }

    public string? DomainName { get; init; }

    public string? TenantId { get; init; }

    public string? EntraDeviceId { get; init; }

    /// <summary>The name the device takes at the next restart, when it differs from <see cref="ComputerName"/>.</summary>
    public string? PendingComputerName { get; init; }

    /// <summary>A join applied that completes at the next restart (its domain or tenant), if any.</summary>
    public string? PendingJoin { get; init; }

    /// <summary>Whether the device is a member of <paramref name="join"/>'s domain or tenant under its name.</summary>
    public bool IsIn(DestinationJoin join) =>
        string.Equals(ComputerName, join.ComputerName, StringComparison.OrdinalIgnoreCase) && join.Kind switch
        {
            JoinKind.EntraId => JoinType == DeviceJoinType.EntraId && Same(TenantId, join.TenantId),
            _ => JoinType is DeviceJoinType.ActiveDirectory or DeviceJoinType.HybridEntraId && Same(DomainName, join.DomainDnsName),
        };

    /// <summary>Whether the device still (or again) belongs where <paramref name="other"/> did.</summary>
    public bool SameMembershipAs(DeviceMembership other) =>
        JoinType == other.JoinType && Same(DomainName, other.DomainName) && Same(TenantId, other.TenantId);

    /// <summary>
    /// Whether the device is back where <paramref name="previous"/> was, under its name: the same tenant for an Entra
    /// ID device; the same domain for a domain device (a Hybrid device comes back domain joined and registers with
    /// Entra ID again by itself).
    /// </summary>
    public bool IsBackIn(DeviceMembership previous) =>
        string.Equals(ComputerName, previous.ComputerName, StringComparison.OrdinalIgnoreCase) && (previous.JoinType switch
        {
            DeviceJoinType.EntraId => JoinType == DeviceJoinType.EntraId && Same(TenantId, previous.TenantId),
            DeviceJoinType.Workgroup => JoinType == DeviceJoinType.Workgroup,
            // Registered in no tenant yet, or in its own again; never in another (the destination's) one.
            _ => JoinType is DeviceJoinType.ActiveDirectory or DeviceJoinType.HybridEntraId && Same(DomainName, previous.DomainName)
                && (TenantId is null || Same(TenantId, previous.TenantId)),
        });

    private static bool Same(string? a, string? b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
}

/// <summary>What the device can prove about a join after the restart.</summary>
/// <param name="Joined">The membership is there and works (secure channel with a domain controller, or the Entra ID join state).</param>
/// <param name="Reachable">A domain controller (or Entra ID) answered; when false, <paramref name="Joined"/> may become true later.</param>
/// <param name="Detail">What was checked and what it said, for the log and the job's message.</param>
public sealed record JoinVerification(bool Joined, bool Reachable, string Detail);

/// <summary>The device's Entra ID registration as <c>dsregcmd /status</c> shows it.</summary>
public sealed record HybridRegistration(bool AzureAdJoined, bool DomainJoined, string? TenantId, string? DeviceId);

/// <summary>A member Windows could not resolve yet (ERROR_NO_SUCH_MEMBER: the destination is not reachable), for later.</summary>
public enum MemberChange
{
    Done,
    AlreadySo,

    /// <summary>Windows could not resolve the SID now (1387); try again when the destination domain answers.</summary>
    NotResolvable,
}

/// <summary>
/// Domain and tenant membership. A join is staged first (nothing changes for the user), applied after the
/// device left its source, and completes at the next restart; the return ticket is staged before the device
/// leaves, so a device whose destination join cannot complete goes back to its source, never to a workgroup.
/// </summary>
public interface IDeviceMembership
{
    Task<DeviceMembership> GetAsync(CancellationToken ct);

    /// <summary>
    /// Checks and stages the join data of <paramref name="purpose"/> in the agent's protected folder:
    /// the offline join blob, the online join's one-time password, or the provisioning package (<paramref name="package"/>).
    /// Checking an online destination's domain controller happens here too. Nothing changes for the user.
    /// </summary>
    Task StageAsync(JoinPurpose purpose, DestinationJoin join, byte[]? package, CancellationToken ct);

    /// <summary>Forgets everything staged (the rollback of a rejoin that had not left its source).</summary>
    Task DiscardStagedAsync(CancellationToken ct);

    /// <summary>Leaves the source domain or tenant (keeping its computer account enabled, so the return ticket works).</summary>
    Task LeaveSourceAsync(DeviceMembership source, CancellationToken ct);

    /// <summary>
    /// Applies the staged join of <paramref name="purpose"/> under its computer name; it completes at the next
    /// restart. Applying the return ticket first withdraws a pending destination join and name.
    /// </summary>
    Task ApplyAsync(JoinPurpose purpose, DestinationJoin join, CancellationToken ct);

    /// <summary>After the restart: whether the device really is in <paramref name="join"/> (not only configured so).</summary>
    Task<JoinVerification> VerifyAsync(DestinationJoin join, CancellationToken ct);

    /// <summary>Hybrid Identity: starts the device's Entra ID registration (the Automatic-Device-Join task) and reads its state.</summary>
    Task<HybridRegistration> RegisterHybridAsync(bool trigger, CancellationToken ct);
}

/// <summary>Boots and restarts.</summary>
public interface IDevicePower
{
    /// <summary>How many times the device has started; a restart is done when this has grown.</summary>
    long BootCount { get; }

    /// <summary>
    /// Asks Windows to restart. The agent's process ends here (<see cref="DeviceRestartingException"/>); when the
    /// restart does not come (somebody aborted it), the agent runs the job again from its journal.
    /// </summary>
    Task RestartAsync(string reason, CancellationToken ct);

    /// <summary>Keeps the device from sleeping until the returned handle is disposed (or the process ends).</summary>
    IDisposable KeepAwake(string reason);
}

/// <summary>Local Administrators and the break-glass account.</summary>
public interface ILocalAccounts
{
    /// <summary>Members of the local Administrators group (SIDs).</summary>
    Task<IReadOnlyList<string>> GetAdministratorsAsync(CancellationToken ct);

    Task<MemberChange> AddAdministratorAsync(string sid, CancellationToken ct);

    Task<MemberChange> RemoveAdministratorAsync(string sid, CancellationToken ct);

    /// <summary>
    /// Creates the break-glass local administrator (or resets the password of the account the job created before);
    /// returns false when an account of that name existed before Rehome, which then is left as it was.
    /// </summary>
    Task<bool> CreateBreakGlassAsync(BreakGlassAccount account, CancellationToken ct);

    /// <summary>Deletes the break-glass account the job created; nothing when it is gone.</summary>
    Task RemoveBreakGlassAsync(string userName, CancellationToken ct);
}

/// <summary>What a rejoin carries across besides membership.</summary>
public interface IDeviceSettings
{
    /// <summary>Writes the default app associations to <paramref name="file"/> (DISM's XML); false when Windows has none to export.</summary>
    Task<bool> ExportDefaultAppAssociationsAsync(string file, CancellationToken ct);

    /// <summary>Makes <paramref name="file"/> the default app associations for users who sign in from now on.</summary>
    Task ImportDefaultAppAssociationsAsync(string file, CancellationToken ct);

    /// <summary>
    /// Backs the recovery passwords of every BitLocker-protected fixed volume up to the directory the device now
    /// belongs to (Active Directory or Entra ID); returns how many were escrowed.
    /// </summary>
    Task<int> EscrowBitLockerKeysAsync(DestinationJoin join, CancellationToken ct);

    /// <summary>How many domain logons Windows caches (so that users sign in while no domain controller answers); null when unset.</summary>
    Task<int?> GetCachedLogonsCountAsync(CancellationToken ct);

    Task SetCachedLogonsCountAsync(int? count, CancellationToken ct);
}

/// <summary>What identifies the device to Autopilot.</summary>
public sealed record HardwareIdentity(string SerialNumber, string HardwareHash);
