using Rehome.Protocol;
using Rehome.Security.Sids;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform.Simulated.Areas;

/// <summary>
/// The simulated device's local groups and their members: Administrators is the device state's
/// <see cref="SimulatedDeviceState.LocalAdministrators"/> (the list the rejoin's carry-over works on), every other
/// group is in <c>groups.json</c>. As on Windows, a domain SID cannot be added to a group while the device
/// belongs to no domain (error 1387).
/// </summary>
public sealed class SimulatedLocalGroups(string folder, SimulatedDeviceStateFile state) : SimulatedHolderFile(System.IO.Path.Combine(folder, FileName))
{
    public const string FileName = "groups.json";
    public const string Administrators = "Administrators";

    public static OpenedArea Open(string folder, SimulatedDeviceStateFile state) =>
        new(ReaclArea.LocalGroups, null, [], [], new SimulatedLocalGroups(folder, state));

    /// <summary>Lays out the groups of a new device: source-domain users and groups in the usual places.</summary>
    public static void Seed(string folder, IEnumerable<string> users, IEnumerable<string> groups) => Create(System.IO.Path.Combine(folder, FileName),
    [
        new("Backup Operators", []),
        new("Remote Desktop Users", users),
        new("Users", ["S-1-5-4", "S-1-5-11", .. groups]),
    ]);

    public override IEnumerable<string> EnumerateItems() => [Administrators, .. base.EnumerateItems()];

    public override IReadOnlyList<SecurityIdentifier> ReadHolders(string item) => item == Administrators
        ? [.. state.Read().LocalAdministrators.Select(SecurityIdentifier.Parse)]
        : base.ReadHolders(item);

    public override void WriteHolders(string item, IReadOnlyList<SecurityIdentifier> holders)
    {
        var before = ReadHolders(item);
        if (state.Read().JoinType == DeviceJoinType.Workgroup && holders.Except(before).FirstOrDefault(h => Jobs.Common.Identities.IsMappable(h.ToString())) is { } unresolvable)
        {
            throw new SecurityStoreException(SecurityStoreErrorKind.Other, item,
                $"{unresolvable} cannot be added to {item}: the device belongs to no domain (error 1387).");
        }
        if (item == Administrators)
        {
            state.Change(s => s with { LocalAdministrators = [.. holders.Select(h => h.ToString())] });
            return;
        }
        base.WriteHolders(item, holders);
    }
}
