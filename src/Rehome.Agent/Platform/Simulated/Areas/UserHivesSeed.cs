using Rehome.Security.Sddl;

namespace Rehome.Agent.Platform.Simulated.Areas;

/// <summary>
/// What a new simulated device holds of its users' profiles beyond their folders: the ProfileList entries, the
/// accounts the device resolves, each profile's two hives (keys naming their user, two AppX packages registered),
/// the files Windows keeps DPAPI-protected secrets in, and the primary user's hives loaded when signed in.
/// </summary>
public static class UserHivesSeed
{
    /// <summary>The AppX packages registered for every simulated user.</summary>
    public static IReadOnlyList<string> Packages { get; } =
    [
        "Microsoft.WindowsCalculator_11.2401.0.0_x64__8wekyb3d8bbwe",
        "Microsoft.WindowsNotepad_11.2312.18.0_x64__8wekyb3d8bbwe",
    ];

    public static void Create(string folder, FolderSecurityStore files, string netBiosName, string dnsName, IReadOnlyList<SimulatedUser> users, SimulatedUser? signedIn)
    {
        var state = new SimulatedDeviceStateFile(folder);
        var profiles = new SimulatedProfiles(folder, state, files);
        foreach (var user in users)
        {
            var home = $@"C:\Users\{user.Name}";
            profiles.WriteEntryAsync(SimulatedProfiles.NewEntry(user.Sid, home), CancellationToken.None).GetAwaiter().GetResult();
            profiles.AddAccount(user.Sid, $@"{netBiosName}\{user.Name}", $"{user.Name}@{dnsName}");

            var inherited = Descriptor($"O:{user.Sid}G:{user.Sid}D:AI(A;ID;FA;;;SY)(A;ID;FA;;;BA)(A;ID;FA;;;{user.Sid})");
            foreach (var sub in new[] { @"AppData\Local", @"AppData\Local\Microsoft", @"AppData\Local\Microsoft\Windows", @"AppData\Local\Microsoft\Credentials",
                @"AppData\Roaming\Microsoft", @"AppData\Roaming\Microsoft\Protect", $@"AppData\Roaming\Microsoft\Protect\{user.Sid}" })
            {
                files.Create($@"{home}\{sub}", true, inherited);
            }
            files.Create($@"{home}\AppData\Roaming\Microsoft\Protect\{user.Sid}\5f8e2c1a-3b4d-4e6f-8a9b-0c1d2e3f4a5b", false, inherited, "master key");
            files.Create($@"{home}\AppData\Local\Microsoft\Credentials\DFBE70A7E5CC19A398EBF1B96859CE5D", false, inherited, "credential");
            files.Create($@"{home}\{UserHives.ClassesHiveFile}", false, inherited, "UsrClass.dat");

            var root = Descriptor($"O:{user.Sid}G:{user.Sid}D:P(A;CI;KA;;;{user.Sid})(A;CI;KA;;;SY)(A;CI;KA;;;BA)");
            var child = Descriptor($"O:{user.Sid}G:{user.Sid}D:AI(A;CIID;KA;;;{user.Sid})(A;CIID;KA;;;SY)(A;CIID;KA;;;BA)");
            profiles.HiveCalls.Write($@"{home}\{UserHives.UserHiveFile}", Hive(root, child, ["Environment", @"Software\Contoso", .. Ancestors(@"Software\Microsoft\Windows\CurrentVersion\RunOnce")]));
            var classes = Hive(root, child, [.. Ancestors(UserHives.AppxPackagesKey), .. Packages.Select(p => $@"{UserHives.AppxPackagesKey}\{p}")]);
            foreach (var package in Packages)
            {
                classes.Values[$@"{UserHives.AppxPackagesKey}\{package}"] = [RegistryValue.OfString("PackageRootFolder", $@"C:\Program Files\WindowsApps\{package}")];
            }
            profiles.HiveCalls.Write($@"{home}\{UserHives.ClassesHiveFile}", classes);
        }
        if (signedIn is not null)
        {
            profiles.HiveCalls.SignIn(signedIn.Sid, $@"C:\Users\{signedIn.Name}");
        }
    }

    private static SimulatedHive Hive(byte[] root, byte[] child, IEnumerable<string> keys)
    {
        var hive = new SimulatedHive().Normalized();
        hive.Keys[""] = root;
        foreach (var key in keys)
        {
            hive.Keys[key] = child;
        }
        return hive;
    }

    private static IEnumerable<string> Ancestors(string key)
    {
        var parts = key.Split('\\');
        for (var i = 1; i <= parts.Length; i++)
        {
            yield return string.Join('\\', parts[..i]);
        }
    }

    private static byte[] Descriptor(string sddl) => SddlParser.Parse(sddl).ToBinary();
}
