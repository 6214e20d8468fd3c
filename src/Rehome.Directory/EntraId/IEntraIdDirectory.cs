using Rehome.Directory.Identity;

namespace Rehome.Directory.EntraId;

/// <summary>
/// One Microsoft Entra ID tenant through Microsoft Graph. Throttling and transient errors are retried;
/// when Graph stays unavailable a <see cref="DirectoryUnavailableException"/> says so (retry later); a
/// refusal that retrying cannot fix is an <see cref="EntraIdException"/>.
/// </summary>
public interface IEntraIdDirectory : IDirectoryIdentitySource
{
    /// <summary>Reads the tenant and probes each permission Rehome uses, reporting every check.</summary>
    Task<ConnectionTestResult> TestConnectionAsync(CancellationToken cancellationToken = default);

    /// <summary>The tenant's id, name and default domain.</summary>
    Task<EntraTenant> ReadTenantAsync(CancellationToken cancellationToken = default);

    /// <summary>Devices with this display name (stale duplicates are common, hence a list).</summary>
    Task<IReadOnlyList<EntraDevice>> FindDevicesByNameAsync(string displayName, CancellationToken cancellationToken = default);

    /// <summary>The device with this device id; null when there is none.</summary>
    Task<EntraDevice?> FindDeviceByDeviceIdAsync(Guid deviceId, CancellationToken cancellationToken = default);

    /// <summary>The groups a device belongs to, directly or also through nested groups.</summary>
    Task<IReadOnlyList<EntraGroup>> GetDeviceGroupsAsync(string deviceObjectId, bool transitive, CancellationToken cancellationToken = default);

    /// <summary>Streams every user, paged.</summary>
    IAsyncEnumerable<EntraUser> ListUsersAsync(CancellationToken cancellationToken = default);

    /// <summary>Groups with this display name.</summary>
    Task<IReadOnlyList<EntraGroup>> FindGroupsByNameAsync(string displayName, CancellationToken cancellationToken = default);

    /// <summary>
    /// Finds the destination group for each source group: an explicit mapping (keyed by source group id or
    /// display name, naming a destination group id or display name) wins; otherwise the group with the same
    /// display name. Missing and ambiguous groups are unresolved, with the reason.
    /// </summary>
    Task<IReadOnlyList<GroupResolution>> ResolveGroupsAsync(
        IEnumerable<EntraGroup> sourceGroups,
        IReadOnlyDictionary<string, string>? explicitMapping,
        CancellationToken cancellationToken = default);

    /// <summary>Adds a device to groups with JSON batching (20 a batch), reporting each group's own result.</summary>
    Task<IReadOnlyList<GroupMembershipResult>> AddDeviceToGroupsAsync(
        string deviceObjectId,
        IEnumerable<string> groupIds,
        CancellationToken cancellationToken = default);

    /// <summary>Imports a device into Windows Autopilot and waits until its status leaves unknown/pending.</summary>
    Task<AutopilotImportResult> ImportAutopilotDeviceAsync(AutopilotImportRequest request, CancellationToken cancellationToken = default);

    /// <summary>Waits for an earlier import (by its id) until its status leaves unknown/pending.</summary>
    Task<AutopilotImportResult> WaitForAutopilotImportAsync(string importId, CancellationToken cancellationToken = default);

    /// <summary>The Autopilot registrations with this serial number.</summary>
    Task<IReadOnlyList<AutopilotDevice>> FindAutopilotDevicesAsync(string serialNumber, CancellationToken cancellationToken = default);

    /// <summary>Removes an Autopilot registration; false when it was already gone.</summary>
    Task<bool> DeleteAutopilotDeviceAsync(string autopilotDeviceId, CancellationToken cancellationToken = default);
}
