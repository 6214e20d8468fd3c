namespace Rehome.Directory.EntraId;

/// <summary>The tenant a connection reaches.</summary>
public sealed record EntraTenant(string TenantId, string DisplayName, string? DefaultDomain);

/// <summary>A device object of Entra ID.</summary>
/// <param name="ObjectId">The directory object id (used for group memberships).</param>
/// <param name="DeviceId">The device id the device itself knows (dsregcmd's DeviceId).</param>
/// <param name="DisplayName">The device name.</param>
/// <param name="OperatingSystem">The operating system, when reported.</param>
/// <param name="TrustType">Workplace, AzureAd or ServerAd (hybrid joined).</param>
public sealed record EntraDevice(string ObjectId, string? DeviceId, string DisplayName, string? OperatingSystem, string? TrustType);

/// <summary>A group of Entra ID.</summary>
/// <param name="Id">The object id.</param>
/// <param name="DisplayName">The display name.</param>
/// <param name="SecurityEnabled">Whether it is a security group.</param>
/// <param name="SecurityIdentifier">Its SID ("S-1-12-1-…"), when Graph gave one.</param>
public sealed record EntraGroup(string Id, string DisplayName, bool SecurityEnabled, string? SecurityIdentifier);

/// <summary>A user of Entra ID, as UPN mapping needs it.</summary>
public sealed record EntraUser(
    string Id,
    string UserPrincipalName,
    string? DisplayName,
    string? OnPremisesSecurityIdentifier,
    string? OnPremisesSamAccountName);

/// <summary>Where a source group goes in the destination tenant, or why it goes nowhere.</summary>
/// <param name="Source">The source device's group.</param>
/// <param name="Destination">The destination group; null when unresolved.</param>
/// <param name="Message">How it was resolved (explicit mapping or same display name), or why not.</param>
public sealed record GroupResolution(EntraGroup Source, EntraGroup? Destination, string Message)
{
    public bool Resolved => Destination is not null;
}

/// <summary>What happened to one group of an add-to-groups request.</summary>
public enum GroupMembershipOutcome
{
    Added,
    AlreadyMember,
    Failed,
}

/// <summary>One group's own result of adding a device to groups in a batch.</summary>
/// <param name="GroupId">The group.</param>
/// <param name="Outcome">Added, already a member, or failed.</param>
/// <param name="StatusCode">The HTTP status of the item's last attempt.</param>
/// <param name="Message">Graph's words for a failure; a short confirmation otherwise.</param>
/// <param name="Retryable">True when the failure was throttling or a transient error: trying later may work.</param>
public sealed record GroupMembershipResult(string GroupId, GroupMembershipOutcome Outcome, int StatusCode, string Message, bool Retryable);

/// <summary>A device to register in Windows Autopilot.</summary>
/// <param name="SerialNumber">The serial number.</param>
/// <param name="HardwareHash">The hardware hash (4K HH) in base64, as Get-WindowsAutopilotInfo gives it.</param>
/// <param name="GroupTag">The group tag (order id), used by dynamic groups; optional.</param>
/// <param name="ProductKey">The Windows product key; optional.</param>
/// <param name="AssignedUserPrincipalName">A user to assign; optional.</param>
public sealed record AutopilotImportRequest(
    string SerialNumber,
    string HardwareHash,
    string? GroupTag,
    string? ProductKey = null,
    string? AssignedUserPrincipalName = null);

/// <summary>Where an Autopilot import stands.</summary>
public enum AutopilotImportOutcome
{
    /// <summary>Registered in the tenant.</summary>
    Complete,

    /// <summary>Still being processed after the wait; read it again later with the import id.</summary>
    Processing,

    /// <summary>806: the device was already registered in this tenant.</summary>
    AlreadyRegisteredInThisTenant,

    /// <summary>808: the device is registered in another tenant, which must release it first.</summary>
    RegisteredInAnotherTenant,

    /// <summary>Any other error; the message names Autopilot's code.</summary>
    Failed,
}

/// <summary>The result of importing one device into Autopilot.</summary>
/// <param name="ImportId">The imported identity's id, for reading its status again; null when nothing was imported.</param>
/// <param name="SerialNumber">The device.</param>
/// <param name="Outcome">Where the import stands.</param>
/// <param name="ErrorCode">Autopilot's error code, on error.</param>
/// <param name="ErrorName">Autopilot's error name, on error.</param>
/// <param name="Message">The outcome in words.</param>
public sealed record AutopilotImportResult(
    string? ImportId,
    string SerialNumber,
    AutopilotImportOutcome Outcome,
    int? ErrorCode,
    string? ErrorName,
    string Message);

/// <summary>A device registered in Windows Autopilot.</summary>
public sealed record AutopilotDevice(string Id, string SerialNumber, string? GroupTag);

/// <summary>A Graph request refused for a reason that retrying will not change (permissions, bad input).</summary>
public sealed class EntraIdException : Exception
{
    public EntraIdException()
    {
    }

    public EntraIdException(string message)
        : base(message)
    {
    }

    public EntraIdException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
