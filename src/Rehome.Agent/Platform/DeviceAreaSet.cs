using Rehome.Core.Policies;
using Rehome.Protocol;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform;

/// <summary>
/// A device's areas: files and registry keys through its path store (the policy's paths, "*" among them standing
/// for every fixed volume), every other area through the opener the platform registers for it. An area with no
/// opener is not supported on this device.
/// </summary>
public sealed class DeviceAreaSet(ISecurityStore paths, Func<IReadOnlyList<string>> fixedVolumes,
    IReadOnlyDictionary<ReaclArea, Func<JobPolicy, OpenedArea>> openers) : IDeviceAreas
{
    public OpenedArea Open(ReaclArea area, JobPolicy policy) => area switch
    {
        ReaclArea.Files => new OpenedArea(area, paths,
            [.. policy.FileSystemPaths.SelectMany(p => p == AreaSettings.EveryFixedVolume ? fixedVolumes() : [p]).Distinct(StringComparer.OrdinalIgnoreCase)],
            policy.IgnoredFileSystemPaths, null),
        ReaclArea.Registry => new OpenedArea(area, paths, policy.RegistryKeys, policy.IgnoredRegistryKeys, null),
        _ when openers.TryGetValue(area, out var open) => open(policy),
        _ => throw new AreaNotSupportedException(area, "this device's agent cannot migrate it."),
    };
}
