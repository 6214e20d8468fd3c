using Rehome.Core.Validation;

namespace Rehome.Core.Policies;

/// <summary>What makes a migration policy valid.</summary>
public static class PolicyRules
{
    public const int NameMaxLength = 100;
    public const int MaxExplicitMappings = 200_000;
    public const int MinHybridRegistrationWaitSeconds = 60;
    public const int MaxHybridRegistrationWaitSeconds = 24 * 3600;
    private static readonly string[] RegistryRoots =
        ["HKLM", "HKEY_LOCAL_MACHINE", "HKU", "HKEY_USERS", "HKCR", "HKEY_CLASSES_ROOT", "HKCU", "HKEY_CURRENT_USER"];

    public static IReadOnlyList<RuleViolation> Validate(string? name, PolicySettings settings)
    {
        var violations = new RuleViolations();
        if (violations.Require("name", name, "The policy name"))
        {
            violations.MaxLength("name", name, NameMaxLength, "The policy name");
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
        if (!Enum.IsDefined(settings.ReaclMode))
        {
            violations.Add("settings.reaclMode", "UnknownValue", "The Re-ACL mode must be Replace, Add or Remove.");
        }
        if (settings.Autopilot.GroupTag is { Length: > 200 })
        {
            violations.Add("settings.autopilot.groupTag", "MaxLength", "The Autopilot group tag is longer than 200 characters.");
        }
        var mapping = settings.IdentityMapping;
        CheckPairs("settings.identityMapping.users", mapping.Users, "user", violations);
        CheckPairs("settings.identityMapping.groups", mapping.Groups, "group", violations);
        CheckPairs("settings.identityMapping.domains", mapping.Domains, "domain", violations);
        CheckAreas("settings.areas", settings.Areas, violations);
        CheckAreas("settings.areasToIgnore", settings.AreasToIgnore, violations);
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
            if (string.IsNullOrWhiteSpace(pair.Source) || string.IsNullOrWhiteSpace(pair.Destination))
            {
                violations.Add($"{field}[{i}]", "Required", $"Explicit {what} mapping {i + 1} needs both a source and a destination.");
            }
            else if (!seen.Add(pair.Source.Trim()))
            {
                violations.Add($"{field}[{i}]", "Duplicate",
                    $"The source {what} '{pair.Source}' is mapped more than once; keep one mapping for it.");
            }
        }
    }

    private static void CheckAreas(string field, AreaSettings areas, RuleViolations violations)
    {
        for (var i = 0; i < areas.FileSystemPaths.Count; i++)
        {
            var path = areas.FileSystemPaths[i];
            if (!IsAbsoluteWindowsPath(path))
            {
                violations.Add($"{field}.fileSystemPaths[{i}]", "WindowsPath",
                    $"'{path}' is not an absolute Windows path such as C:\\Data or \\\\server\\share.");
            }
        }
        for (var i = 0; i < areas.RegistryKeys.Count; i++)
        {
            var key = areas.RegistryKeys[i];
            var root = key.Split('\\', 2)[0];
            if (!RegistryRoots.Contains(root, StringComparer.OrdinalIgnoreCase))
            {
                violations.Add($"{field}.registryKeys[{i}]", "RegistryKey",
                    $"'{key}' does not start with a registry root such as HKLM or HKU.");
            }
        }
        if ((areas.Kinds & ~AreaKinds.All) != 0)
        {
            violations.Add($"{field}.kinds", "UnknownValue", "The area kinds are Shares, Services, Printers, LocalGroups, UserRights.");
        }
    }

    private static bool IsAbsoluteWindowsPath(string path) =>
        (path.Length >= 3 && char.IsAsciiLetter(path[0]) && path[1] == ':' && path[2] == '\\') ||
        (path.Length > 2 && path.StartsWith(@"\\", StringComparison.Ordinal));
}
