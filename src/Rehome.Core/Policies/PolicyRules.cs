using Rehome.Core.Validation;

namespace Rehome.Core.Policies;

/// <summary>What makes a migration policy valid.</summary>
public static class PolicyRules
{
    public const int NameMaxLength = 100;
    public const int MaxExplicitMappings = 200_000;
    public const int MinHybridRegistrationWaitSeconds = 60;
    public const int MaxHybridRegistrationWaitSeconds = 24 * 3600;
    public static readonly TimeSpan MinDeviceOfflineLimit = TimeSpan.FromHours(1);
    public static readonly TimeSpan MaxDeviceOfflineLimit = TimeSpan.FromDays(365);

    /// <summary>A user, group or domain name of an explicit mapping (a UPN is at most 1,024 characters in Entra ID).</summary>
    public const int IdentityMaxLength = 1024;

    /// <summary>Windows' long-path limit.</summary>
    public const int PathMaxLength = 32_767;

    public const int MaxAreaEntries = 1000;
    private static readonly string[] RegistryRoots =
        ["HKLM", "HKEY_LOCAL_MACHINE", "HKU", "HKEY_USERS", "HKCR", "HKEY_CLASSES_ROOT", "HKCU", "HKEY_CURRENT_USER"];

    public static IReadOnlyList<RuleViolation> Validate(string? name, PolicySettings settings)
    {
        var violations = new RuleViolations();
        if (violations.Require("name", name, "The policy name"))
        {
            violations.Text("name", name, NameMaxLength, "The policy name");
        }
        // JSON can say null where the model has a default; the rules below read every part.
        var parts = new (string Field, object? Value)[]
        {
            ("settings.forcedRejoin", settings.ForcedRejoin), ("settings.autopilot", settings.Autopilot),
            ("settings.identityMapping", settings.IdentityMapping), ("settings.identityMapping.users", settings.IdentityMapping?.Users),
            ("settings.identityMapping.groups", settings.IdentityMapping?.Groups), ("settings.identityMapping.domains", settings.IdentityMapping?.Domains),
            ("settings.areas", settings.Areas), ("settings.areasToIgnore", settings.AreasToIgnore),
        };
        foreach (var (field, value) in parts.Where(p => p.Value is null))
        {
            violations.Add(field, "Required", $"The {field} cannot be null; leave it out for its default.");
        }
        if (violations.Items.Any(v => v.Rule == "Required" && v.Field.StartsWith("settings.", StringComparison.Ordinal)))
        {
            return violations.Items;
        }
        var forced = settings.ForcedRejoin;
        if (forced.ForceAfter < TimeSpan.Zero || forced.ForceAfter > TimeSpan.FromDays(30))
        {
            violations.Add("settings.forcedRejoin.forceAfter", "Range", "The forced rejoin period must be between 0 and 30 days.");
        }
        if (settings.HybridRegistrationWaitSeconds is < MinHybridRegistrationWaitSeconds or > MaxHybridRegistrationWaitSeconds)
        {
            // Entra ID Connect syncs devices every 30 minutes by default: less than a minute cannot succeed, and a
            // job kept waiting past a day is forgotten rather than helped.
            violations.Add("settings.hybridRegistrationWaitSeconds", "Range",
                $"The wait for the hybrid registration must be between {MinHybridRegistrationWaitSeconds} s and {MaxHybridRegistrationWaitSeconds} s (24 hours).");
        }
        if (settings.DeviceOfflineLimit < MinDeviceOfflineLimit || settings.DeviceOfflineLimit > MaxDeviceOfflineLimit)
        {
            // Under an hour, a device that restarts for updates or sleeps over lunch would fail its jobs; agents
            // report every few seconds, so an hour of silence already means the device is off or unreachable.
            violations.Add("settings.deviceOfflineLimit", "Range", "The device offline limit must be between 1 hour and 365 days.");
        }
        if (!Enum.IsDefined(settings.ReaclMode))
        {
            violations.Add("settings.reaclMode", "UnknownValue", "The Re-ACL mode must be Replace, Add or Remove.");
        }
        violations.Text("settings.autopilot.groupTag", settings.Autopilot.GroupTag, 200, "The Autopilot group tag");
        var mapping = settings.IdentityMapping!; // checked above
        CheckPairs("settings.identityMapping.users", mapping.Users, "user", violations);
        CheckPairs("settings.identityMapping.groups", mapping.Groups, "group", violations);
        CheckPairs("settings.identityMapping.domains", mapping.Domains, "domain", violations);
        CheckAreas("settings.areas", settings.Areas, violations, walked: true);
        CheckAreas("settings.areasToIgnore", settings.AreasToIgnore, violations, walked: false);
        return violations.Items;
    }

    private static void CheckPairs(string field, IReadOnlyList<IdentityPair> pairs, string what, RuleViolations violations)
    {
        if (pairs.Count > MaxExplicitMappings)
        {
            violations.Add(field, "TooMany", $"At most {MaxExplicitMappings:N0} explicit {what} mappings are allowed.");
            return;
        }
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < pairs.Count; i++)
        {
            var pair = pairs[i];
            if (pair is null || string.IsNullOrWhiteSpace(pair.Source) || string.IsNullOrWhiteSpace(pair.Destination))
            {
                violations.Add($"{field}[{i}]", "Required", $"Explicit {what} mapping {i + 1} needs both a source and a destination.");
                continue;
            }
            var before = violations.Items.Count;
            violations.Text($"{field}[{i}].source", pair.Source, IdentityMaxLength, $"The source {what} of mapping {i + 1}");
            violations.Text($"{field}[{i}].destination", pair.Destination, IdentityMaxLength, $"The destination {what} of mapping {i + 1}");
            if (violations.Items.Count > before)
            {
                continue;
            }
            if (!seen.Add(pair.Source.Trim()))
            {
                violations.Add($"{field}[{i}]", "Duplicate",
                    $"The source {what} '{pair.Source}' is mapped more than once; keep one mapping for it.");
            }
        }
    }

    /// <summary>Checks one area list; <paramref name="walked"/>: the areas to walk, where "*" means every fixed volume.</summary>
    private static void CheckAreas(string field, AreaSettings areas, RuleViolations violations, bool walked)
    {
        if (areas.FileSystemPaths is null || areas.FileSystemPaths.Count > MaxAreaEntries)
        {
            violations.Add($"{field}.fileSystemPaths", "TooMany", $"Give at most {MaxAreaEntries:N0} paths (an empty list for none).");
            return;
        }
        if (areas.RegistryKeys is null || areas.RegistryKeys.Count > MaxAreaEntries)
        {
            violations.Add($"{field}.registryKeys", "TooMany", $"Give at most {MaxAreaEntries:N0} registry keys (an empty list for none).");
            return;
        }
        for (var i = 0; i < areas.FileSystemPaths.Count; i++)
        {
            var path = areas.FileSystemPaths[i] ?? "";
            var before = violations.Items.Count;
            violations.Text($"{field}.fileSystemPaths[{i}]", path, PathMaxLength, $"Path {i + 1}");
            if (violations.Items.Count > before)
            {
                continue;
            }
            if (!IsAbsoluteWindowsPath(path) && !(walked && path == AreaSettings.EveryFixedVolume))
            {
                violations.Add($"{field}.fileSystemPaths[{i}]", "WindowsPath",
                    $"'{path}' is not an absolute Windows path such as C:\\Data or \\\\server\\share.");
            }
        }
        for (var i = 0; i < areas.RegistryKeys.Count; i++)
        {
            var key = areas.RegistryKeys[i] ?? "";
            var before = violations.Items.Count;
            violations.Text($"{field}.registryKeys[{i}]", key, PathMaxLength, $"Registry key {i + 1}");
            if (violations.Items.Count > before)
            {
                continue;
            }
            var root = key.Split('\\', 2)[0];
            if (!RegistryRoots.Contains(root, StringComparer.OrdinalIgnoreCase))
            {
                violations.Add($"{field}.registryKeys[{i}]", "RegistryKey",
                    $"'{key}' does not start with a registry root such as HKLM or HKU.");
            }
        }
        if ((areas.Kinds & ~AreaKinds.All) != 0)
        {
            violations.Add($"{field}.kinds", "UnknownValue", "The area kinds are Shares, Services, Printers, LocalGroups, UserRights, ScheduledTasks and UserHives.");
        }
    }

    private static bool IsAbsoluteWindowsPath(string path) =>
        (path.Length >= 3 && char.IsAsciiLetter(path[0]) && path[1] == ':' && path[2] == '\\') ||
        (path.Length > 2 && path.StartsWith(@"\\", StringComparison.Ordinal));
}
