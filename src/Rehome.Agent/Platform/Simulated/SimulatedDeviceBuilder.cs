using System.Globalization;
using Rehome.Protocol;
using Rehome.Security.Sddl;

namespace Rehome.Agent.Platform.Simulated;

/// <summary>A user of the simulated source domain who has a profile on the device.</summary>
public sealed record SimulatedUser(string Name, string Sid);

/// <summary>What a simulated device is made of.</summary>
public sealed record SimulatedDeviceSpec
{
    public required string DeviceName { get; init; }

    public DeviceJoinType JoinType { get; init; } = DeviceJoinType.ActiveDirectory;

    public required string DomainName { get; init; }

    public string? TenantId { get; init; }

    /// <summary>The users with a profile; the first is the primary user and is logged on unless <see cref="LoggedOn"/> is false.</summary>
    public required IReadOnlyList<SimulatedUser> Users { get; init; }

    /// <summary>Domain groups granted access to the shared folder (SIDs).</summary>
    public IReadOnlyList<string> Groups { get; init; } = [];

    /// <summary>Files in each profile (and in the shared folder).</summary>
    public int FilesPerUser { get; init; } = 12;

    public bool LoggedOn { get; init; } = true;

    public IReadOnlyList<PromptAnswer> PromptAnswers { get; init; } = [PromptAnswer.StartNow];

    public SimulatedFaults Faults { get; init; } = new();
}

/// <summary>Lays out a simulated device in a folder: its state file and a small Windows tree with real descriptors.</summary>
public static class SimulatedDeviceBuilder
{
    private const string System = "S-1-5-18";
    private const string Administrators = "S-1-5-32-544";

    public static void Create(string folder, SimulatedDeviceSpec spec)
    {
        Directory.CreateDirectory(folder);
        var store = new FolderSecurityStore(folder);
        var primary = spec.Users.Count > 0 ? spec.Users[0] : null;
        var entraDeviceId = spec.JoinType is DeviceJoinType.HybridEntraId or DeviceJoinType.EntraId
            ? SimulatedDevicePlatform.DeterministicGuid(spec.DeviceName + "@source").ToString()
            : null;

        Folder(store, @"C:\", Explicit(Administrators, Administrators));
        Folder(store, @"C:\Users", Explicit(Administrators, Administrators));
        Folder(store, @"C:\Windows", Explicit("S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464", Administrators));
        foreach (var user in spec.Users)
        {
            var home = $@"C:\Users\{user.Name}";
            Folder(store, home, Explicit(user.Sid, user.Sid));
            File(store, home + @"\NTUSER.DAT", Inherited(user.Sid, user.Sid));
            foreach (var sub in new[] { "Desktop", "Documents", @"AppData", @"AppData\Roaming" })
            {
                Folder(store, $@"{home}\{sub}", Inherited(user.Sid, user.Sid));
            }
            for (var i = 0; i < spec.FilesPerUser; i++)
            {
                var sub = (i % 3) switch { 0 => "Desktop", 1 => "Documents", _ => @"AppData\Roaming" };
                File(store, string.Create(CultureInfo.InvariantCulture, $@"{home}\{sub}\file{i:D3}.txt"), Inherited(user.Sid, user.Sid));
            }
        }
        Folder(store, @"C:\Data", Explicit(Administrators, Administrators));
        var shared = Explicit(Administrators, Administrators, spec.Groups.Select(g => $"(A;OICI;0x1301bf;;;{g})")
            .Concat(spec.Users.Select(u => $"(A;OICI;FA;;;{u.Sid})")));
        Folder(store, @"C:\Data\Shared", shared);
        for (var i = 0; i < spec.FilesPerUser; i++)
        {
            var owner = spec.Users.Count > 0 ? spec.Users[i % spec.Users.Count].Sid : Administrators;
            File(store, string.Create(CultureInfo.InvariantCulture, $@"C:\Data\Shared\report{i:D3}.xlsx"),
                Inherited(owner, owner, spec.Groups.Select(g => $"(A;ID;0x1301bf;;;{g})").Concat(spec.Users.Select(u => $"(A;ID;FA;;;{u.Sid})"))));
        }
        Folder(store, @"HKLM\SOFTWARE", Explicit(Administrators, Administrators));
        Folder(store, @"HKLM\SOFTWARE\Microsoft", Explicit(Administrators, Administrators));
        Folder(store, @"HKLM\SOFTWARE\Contoso", Explicit(Administrators, Administrators, spec.Users.Select(u => $"(A;CI;KA;;;{u.Sid})")));
        Folder(store, @"HKLM\SOFTWARE\Contoso\LineOfBusiness", Inherited(Administrators, Administrators, spec.Users.Select(u => $"(A;CIID;KA;;;{u.Sid})")));
        Areas.SimulatedAreaSeeds.Seed(folder, spec);

        Areas.SimulatedLocalGroups.Seed(folder, spec.Users.Select(u => u.Sid), spec.Groups);
        Areas.SimulatedUserRights.Seed(folder, spec.Users.Select(u => u.Sid), spec.Groups);

        var state = new SimulatedDeviceState
        {
            ComputerName = spec.DeviceName,
            JoinType = spec.JoinType,
            DomainName = spec.JoinType == DeviceJoinType.EntraId ? null : spec.DomainName,
            TenantId = spec.TenantId,
            EntraDeviceId = entraDeviceId,
            SourceEntraDeviceId = entraDeviceId,
            SerialNumber = "SIM-" + SimulatedDevicePlatform.DeterministicGuid(spec.DeviceName).ToString("N")[..12].ToUpperInvariant(),
            HardwareHash = Convert.ToBase64String(SimulatedDevicePlatform.DeterministicGuid(spec.DeviceName + "#hash").ToByteArray()),
            LoggedOnUsers = spec.LoggedOn && primary is not null ? [$@"{spec.DomainName.Split('.')[0].ToUpperInvariant()}\{primary.Name}"] : [],
            // The machine's own Administrator stays; the domain's primary user is a local administrator, as on many fleets.
            LocalAdministrators = ["S-1-5-21-3623811015-3361044348-30300820-500", .. spec.Users.Take(1).Select(u => u.Sid)],
            PromptAnswers = [.. spec.PromptAnswers],
            Faults = spec.Faults,
        };
        new SimulatedDeviceStateFile(folder).Write(state);
        Areas.UserHivesSeed.Create(folder, store, spec.DomainName.Split('.')[0].ToUpperInvariant(), spec.DomainName, spec.Users, spec.LoggedOn ? primary : null);
    }

    private static string Explicit(string owner, string group, IEnumerable<string>? more = null) =>
        $"O:{owner}G:{group}D:PAI(A;OICI;FA;;;{System})(A;OICI;FA;;;{Administrators}){string.Concat(more ?? [])}";

    private static string Inherited(string owner, string group, IEnumerable<string>? more = null) =>
        $"O:{owner}G:{group}D:AI(A;ID;FA;;;{System})(A;ID;FA;;;{Administrators}){string.Concat(more ?? [$"(A;ID;FA;;;{owner})"])}";

    private static void Folder(FolderSecurityStore store, string path, string sddl) => store.Create(path, true, SddlParser.Parse(sddl).ToBinary());

    private static void File(FolderSecurityStore store, string path, string sddl) =>
        store.Create(path, false, SddlParser.Parse(sddl).ToBinary(), "simulated content of " + path);
}
