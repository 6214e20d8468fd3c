using Rehome.Security.Sddl;

namespace Rehome.Agent.Platform.Simulated.Areas;

/// <summary>
/// Lays out a simulated device's shares, services, printers and scheduled tasks, some naming the source domain's
/// users and groups (as a helpdesk group allowed to restart a service, a user's own task), so that a permissions
/// job has something to change in each area; and what Windows always has (administrative shares, system services
/// and tasks) that it must leave alone.
/// </summary>
public static class SimulatedAreaSeeds
{
    private const string SharedFolderName = "Data";
    private const string LineOfBusinessService = "ContosoLineOfBusiness";
    private const string DepartmentPrinter = "Contoso Floor 3";
    private const string UserTask = @"\Contoso\Sync notes";

    public static void Seed(string folder, SimulatedDeviceSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var users = spec.Users.Select(u => u.Sid).ToList();
        // Groups where the device has them, its users otherwise.
        var groups = spec.Groups.Count > 0 ? [.. spec.Groups] : users;

        var shares = SimulatedShares.File(folder);
        Set(shares, SharedFolderName, "O:BAG:SYD:(A;;0x1f01ff;;;BA)" + Aces("0x1301bf", groups) + Aces("0x1200a9", users));
        foreach (var special in new[] { "ADMIN$", "C$", "IPC$" })
        {
            shares.Change(special, _ => new SimulatedAreaItem { Special = true });
        }

        var services = SimulatedServices.File(folder);
        const string ServiceDefaults = "O:SYG:SYD:(A;;0xf01ff;;;SY)(A;;0xf01ff;;;BA)(A;;0x2018d;;;IU)";
        Set(services, "Spooler", ServiceDefaults, "S-1-5-18");
        // The helpdesk group and the device's first user may restart it (a group the directory cannot map stays as it is).
        Set(services, LineOfBusinessService, ServiceDefaults + Aces("0x201fd", groups.Concat(users.Take(1)).Distinct()), "S-1-5-18");

        Set(SimulatedPrinters.File(folder), DepartmentPrinter,
            "O:SYG:SYD:(A;;0xf000c;;;BA)(A;OIIO;0xf0030;;;BA)(A;OIIO;0xf0030;;;CO)" + Aces("0x20008", users) + Aces("0xf000c", groups.Take(1)));

        var tasks = SimulatedTasks.File(folder);
        Set(tasks, @"\Microsoft\Windows\Defrag\ScheduledDefrag", "O:BAG:SYD:(A;;0x1f019f;;;BA)(A;;0x1f019f;;;SY)", "S-1-5-18");
        if (users.Count > 0)
        {
            // "Run only when the user is logged on": no stored password, so the task moves with its user.
            Set(tasks, UserTask, "O:BAG:SYD:(A;;0x1f019f;;;BA)(A;;0x1f019f;;;SY)" + Aces("0x1200a9", users.Take(1)), users[0]);
        }
    }

    private static string Aces(string rights, IEnumerable<string> sids) => string.Concat(sids.Select(s => $"(A;;{rights};;;{s})"));

    private static void Set(SimulatedAreaFile file, string name, string sddl, string? account = null) =>
        file.Change(name, _ => new SimulatedAreaItem { Descriptor = SddlParser.Parse(sddl).ToBinary(), Account = account });
}
