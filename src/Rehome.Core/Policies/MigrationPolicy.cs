namespace Rehome.Core.Policies;

/// <summary>A named migration policy; its settings are one value so that they are stored and versioned whole.</summary>
public sealed class MigrationPolicy
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public required PolicySettings Settings { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>Everything a policy decides about how devices migrate.</summary>
public sealed record PolicySettings
{
    public const int DefaultHybridRegistrationWaitSeconds = 3600;

    public static readonly TimeSpan DefaultDeviceOfflineLimit = TimeSpan.FromHours(72);

    public ForcedRejoinSettings ForcedRejoin { get; init; } = new();

    /// <summary>Keep the users' cached credentials so they can sign in before the device reaches the destination.</summary>
    public bool CacheUserCredentials { get; init; } = true;

    /// <summary>Reuse a destination computer object of the same name instead of refusing the name as taken.</summary>
    public bool ReuseExistingComputerObject { get; init; }

    public AutopilotSettings Autopilot { get; init; } = new();

    public IdentityMappingSettings IdentityMapping { get; init; } = new();

    public AreaSettings Areas { get; init; } = AreaSettings.Default;

    public AreaSettings AreasToIgnore { get; init; } = new();

    public ReaclMode ReaclMode { get; init; } = ReaclMode.Replace;

    /// <summary>
    /// Hybrid Identity: how long a rejoin waits, after the device's restart, for its Microsoft Entra ID hybrid
    /// registration to appear before it reports the wait as a failure.
    /// </summary>
    public int HybridRegistrationWaitSeconds { get; init; } = DefaultHybridRegistrationWaitSeconds;

    /// <summary>
    /// How long a device's agent may stay unheard of while the device has a job to do (running or waiting)
    /// before the server gives up and fails the job as DeviceOffline. The agent may still report later.
    /// </summary>
    public TimeSpan DeviceOfflineLimit { get; init; } = DefaultDeviceOfflineLimit;
}

/// <summary>How the user is warned before a rejoin, and when it starts anyway.</summary>
public sealed record ForcedRejoinSettings
{
    /// <summary>Whether the rejoin starts by itself once <see cref="ForceAfter"/> has passed.</summary>
    public bool Enabled { get; init; } = true;

    public bool SnoozeAllowed { get; init; } = true;

    /// <summary>How long a user may snooze before the rejoin runs by itself.</summary>
    public TimeSpan ForceAfter { get; init; } = TimeSpan.FromHours(4);

    /// <summary>Run without showing anything to the user.</summary>
    public bool Silent { get; init; }
}

/// <summary>Windows Autopilot registration in the destination tenant.</summary>
public sealed record AutopilotSettings
{
    public bool Register { get; init; }

    public string? GroupTag { get; init; }
}

/// <summary>How source identities are matched to destination identities for Re-ACL and profiles.</summary>
public sealed record IdentityMappingSettings
{
    /// <summary>Match users and groups whose UPN prefix (or sAMAccountName) is the same on both sides.</summary>
    public bool UpnPrefixAutoMapping { get; init; } = true;

    /// <summary>Explicit user mappings; they override the auto-mapping.</summary>
    public IReadOnlyList<IdentityPair> Users { get; init; } = [];

    /// <summary>Explicit group mappings; they override the auto-mapping.</summary>
    public IReadOnlyList<IdentityPair> Groups { get; init; } = [];

    /// <summary>Source domain → destination domain (NetBIOS or DNS names).</summary>
    public IReadOnlyList<IdentityPair> Domains { get; init; } = [];
}

/// <summary>One explicit mapping from a source identity to a destination identity.</summary>
public sealed record IdentityPair(string Source, string Destination);

/// <summary>What the Re-ACL does with an ACE that names a source identity.</summary>
public enum ReaclMode
{
    /// <summary>Rewrite the ACE to name the destination identity.</summary>
    Replace,

    /// <summary>Keep the source ACE and add the same for the destination identity (coexistence).</summary>
    Add,

    /// <summary>Remove the source ACE (clean-up after coexistence).</summary>
    Remove,
}

/// <summary>The kinds of device objects, beyond files and registry keys, whose permissions migrate.</summary>
[Flags]
public enum AreaKinds
{
    None = 0,
    Shares = 1,
    Services = 2,
    Printers = 4,
    LocalGroups = 8,
    UserRights = 16,
    ScheduledTasks = 32,

    /// <summary>The registry hives of every user profile on the device.</summary>
    UserHives = 64,
    All = Shares | Services | Printers | LocalGroups | UserRights | ScheduledTasks | UserHives,
}

/// <summary>Where permissions migrate (or, for areas to ignore, where they don't).</summary>
public sealed record AreaSettings
{
    public static AreaSettings Default { get; } = new()
    {
        FileSystemPaths = [@"C:\"],
        RegistryKeys = [@"HKLM\SOFTWARE", @"HKLM\SYSTEM\CurrentControlSet\Services"],
        Kinds = AreaKinds.All,
    };

    /// <summary>Among the file system paths to walk: every fixed volume of the device (no path at all walks no files).</summary>
    public const string EveryFixedVolume = "*";

    public IReadOnlyList<string> FileSystemPaths { get; init; } = [];

    public IReadOnlyList<string> RegistryKeys { get; init; } = [];

    public AreaKinds Kinds { get; init; }
}
