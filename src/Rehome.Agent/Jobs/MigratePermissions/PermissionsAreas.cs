using Rehome.Agent.Jobs.Common;
using Rehome.Protocol;

namespace Rehome.Agent.Jobs.MigratePermissions;

/// <summary>
/// The areas the permissions job walks, in this order: files (when the policy names paths; "*" for every fixed
/// volume), the registry (when the policy names keys), then each area the policy's kinds select. Each is opened
/// through the device's <see cref="Platform.IDeviceAreas"/> with the policy's ignore lists.
/// </summary>
public static class PermissionsAreas
{
    public const string MapFile = "permissions.sidmap.json";

    /// <summary>Each policy kind and the area that reports it, in walking order.</summary>
    private static readonly (DeviceAreas Kind, ReaclArea Area)[] Kinds =
    [
        (DeviceAreas.UserHives, ReaclArea.UserHives),
        (DeviceAreas.Shares, ReaclArea.Shares),
        (DeviceAreas.Services, ReaclArea.Services),
        (DeviceAreas.Printers, ReaclArea.Printers),
        (DeviceAreas.ScheduledTasks, ReaclArea.ScheduledTasks),
        (DeviceAreas.LocalGroups, ReaclArea.LocalGroups),
        (DeviceAreas.UserRights, ReaclArea.UserRights),
    ];

    public static ReaclScope Scope { get; } = new(context => Of(context.Assignment.Policy),
        (context, area) => context.Platform.Areas.Open(area, context.Assignment.Policy));

    /// <summary>The areas <paramref name="policy"/> selects, in walking order.</summary>
    public static IReadOnlyList<ReaclArea> Of(JobPolicy policy) =>
    [
        .. policy.FileSystemPaths.Count > 0 ? [ReaclArea.Files] : Array.Empty<ReaclArea>(),
        .. policy.RegistryKeys.Count > 0 ? [ReaclArea.Registry] : Array.Empty<ReaclArea>(),
        .. Kinds.Where(k => policy.Areas.HasFlag(k.Kind)).Select(k => k.Area),
    ];

    /// <summary>The area that reports a policy kind.</summary>
    public static ReaclArea AreaOf(DeviceAreas kind) => Kinds.Single(k => k.Kind == kind).Area;
}
