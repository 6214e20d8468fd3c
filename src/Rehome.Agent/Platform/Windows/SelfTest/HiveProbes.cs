using System.Runtime.Versioning;
using Microsoft.Win32;
using Rehome.Agent.Jobs.MigrateUserProfile;
using Rehome.Security.Descriptors;
using Rehome.Security.Reacl;
using Rehome.Security.Sddl;
using Rehome.Security.Sids;

namespace Rehome.Agent.Platform.Windows.SelfTest;

/// <summary>
/// The user hives and ProfileList for real: a hive file made with RegSaveKey from a key the probe built, loaded under
/// a temporary key through <see cref="UserHives"/> and <see cref="NativeHiveCalls"/>, re-ACLed through the Windows
/// registry store, unloaded, loaded again to check the descriptors, and a ProfileList-like entry copied whole.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed class HiveProbes : ISelfTestProbes
{
    private const string Source = "S-1-5-21-1004336348-1177238915-682003330-1001";
    private const string Destination = "S-1-5-21-2222222222-3333333333-444444444-1001";

    public IEnumerable<(string Name, Func<string> Run)> Probes(SelfTestContext context)
    {
        var reloaded = new Lazy<string>(() => UserHive(context.Scratch));
        yield return ("user-hive-load-reacl-unload", () => reloaded.Value.Split('|')[0]);
        yield return ("user-hive-descriptors-after-reload", () => Reloaded(reloaded.Value.Split('|')[1]));
        yield return ("profile-list-entry-copy", ProfileListEntryCopy);
    }

    /// <summary>
    /// Saves a key as a hive file, loads it under a temporary key (UserHives, NativeHiveCalls), writes a descriptor
    /// naming the source SID into it and walks it through the registry store (Re-ACL to the destination SID), checks
    /// the change in the loaded hive, unloads it, loads it again and reads the key's owner: "detail|owner".
    /// </summary>
    private static string UserHive(string scratch)
    {
        var keyPath = $@"{SelfTestKey.Path}\Hive";
        var store = new WindowsPathSecurityStore(new Rehome.Security.Stores.WindowsSecurityStore(includeSacl: false));
        using (Registry.LocalMachine.CreateSubKey($@"{keyPath}\Software\Contoso"))
        {
        }

        var profile = new UserProfile(Source, Path.Combine(scratch, "profile"));
        Directory.CreateDirectory(profile.ProfileImagePath);
        var file = Path.Combine(profile.ProfileImagePath, UserHives.UserHiveFile);
        ProcessPrivileges.Enable("SeBackupPrivilege");
        NativeMethods.Check(RegSave(keyPath, file), $@"RegSaveKey(HKLM\{keyPath})");
        Registry.LocalMachine.DeleteSubKeyTree(keyPath);

        var hives = new UserHives(new NativeHiveCalls(), store, () => [profile], Thread.Sleep);
        var map = new SidMap();
        map.Add(SecurityIdentifier.Parse(Source), SecurityIdentifier.Parse(Destination));
        var item = $@"{UserHives.UserRoot(Source)}\Software\Contoso";
        WalkResult result;
        string walked;
        using (var session = hives.Open([profile]))
        {
            var mount = session.Mounts.Single();
            if (!mount.LoadedHere || mount.Name != UserHives.TemporaryPrefix + Source)
            {
                throw new InvalidOperationException($@"The hive was not loaded under HKU\{UserHives.TemporaryPrefix}{Source}: {mount}.");
            }

            session.Store.WriteDescriptor(item, SddlParser.Parse($"O:{Source}G:{Source}D:(A;CI;KA;;;{Source})(A;CI;KA;;;SY)(A;CI;KA;;;BA)").ToBinary());
            result = new SecurityWalker(session.Store, map, new TranslationOptions(),
                new WalkOptions { UndoJournalFile = Path.Combine(scratch, "hive.undo") }).Walk([mount.Root], []);
            walked = SddlWriter.Write(SecurityDescriptor.FromBinary(session.Store.ReadDescriptor(item)));
            Unloaded(session);
        }

        if (result.Changed < 1 || !walked.StartsWith($"O:{Destination}", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"The walk changed {result.Changed} keys (errors: {string.Join("; ", result.Errors.Select(e => e.Message))}); {item} is {walked}.");
        }

        string owner;
        using (var again = hives.Open([profile]))
        {
            owner = SecurityDescriptor.FromBinary(again.Store.ReadDescriptor(item)).Owner!.ToString();
            Unloaded(again);
        }

        return $@"saved, loaded under HKU\{UserHives.TemporaryPrefix}…, {result.Seen} keys walked, {result.Changed} changed to {walked}, unloaded, loaded and unloaded again|{owner}";
    }

    private static string Reloaded(string owner) => owner == Destination
        ? $"the reloaded hive's key is owned by {owner}"
        : throw new InvalidOperationException($"The reloaded hive's key is owned by {owner}, not {Destination}: the descriptor did not reach the hive file.");

    private static IEnumerable<string> Differences(ProfileListEntry wrote, ProfileListEntry read) =>
        wrote.Values.Where(v => read.Value(v.Name) is not { } r || !v.SameAs(r))
            .Select(v => $"{v.Name}: wrote type {v.Type} [{Convert.ToHexString(v.Data)}], read {(read.Value(v.Name) is { } r ? $"type {r.Type} [{Convert.ToHexString(r.Data)}]" : "nothing")}")
            .Concat(read.Values.Where(r => wrote.Value(r.Name) is null).Select(r => $"{r.Name}: not written, read back"));

    private static void Unloaded(HiveSession session)
    {
        var problems = session.Close();
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join(" ", problems));
        }
    }

    private static int RegSave(string keyPath, string file)
    {
        var opened = NativeMethods.RegOpenKeyEx(NativeMethods.LocalMachineKey, keyPath, 0, NativeMethods.KeyRead, out var key);
        if (opened != NativeMethods.Success)
        {
            return opened;
        }

        try
        {
            return NativeMethods.RegSaveKey(key, file, 0);
        }
        finally
        {
            _ = NativeMethods.RegCloseKey(key);
        }
    }

    /// <summary>Raw values of several types written, read back byte for byte, copied whole to another SID's key.</summary>
    private static string ProfileListEntryCopy()
    {
        var list = $@"{SelfTestKey.Path}\ProfileList";
        var source = new ProfileListEntry(Source,
        [
            RegistryValue.OfString("ProfileImagePath", @"%SystemDrive%\Users\probe", RegistryValue.ExpandString),
            RegistryValue.OfDWord("Flags", 0),
            RegistryValue.OfDWord("State", 0x100),
            new RegistryValue("Sid", RegistryValue.Binary, SecurityIdentifier.Parse(Source).ToArray()),
            new RegistryValue("LocalProfileLoadTime", 11, [1, 2, 3, 4, 5, 6, 7, 8]),
            new RegistryValue("Groups", 7, System.Text.Encoding.Unicode.GetBytes("a\0b\0\0")),
        ]);
        try
        {
            NativeMethods.Check(RawRegistry.WriteValues(NativeMethods.LocalMachineKey, $@"{list}\{Source}", source.Values, exactly: true), "RegSetValueEx");
            NativeMethods.Check(RawRegistry.ReadValues(NativeMethods.LocalMachineKey, $@"{list}\{Source}", out var read), "RegEnumValue");
            var copy = ProfileListRules.ForDestination(new ProfileListEntry(Source, read), SecurityIdentifier.Parse(Destination));
            NativeMethods.Check(RawRegistry.WriteValues(NativeMethods.LocalMachineKey, $@"{list}\{Destination}", copy.Values, exactly: true), "RegSetValueEx");
            NativeMethods.Check(RawRegistry.ReadValues(NativeMethods.LocalMachineKey, $@"{list}\{Destination}", out var written), "RegEnumValue");
            NativeMethods.Check(RawRegistry.DeleteTree(NativeMethods.LocalMachineKey, $@"{list}\{Source}"), "RegDeleteTree");
            if (Differences(source, new ProfileListEntry(Source, read)).Concat(Differences(copy, new ProfileListEntry(Destination, written))).ToList() is { Count: > 0 } differences)
            {
                throw new InvalidOperationException("Values read back differ from those written: " + string.Join("; ", differences));
            }

            return $"{read.Count} values read back byte for byte; copied whole to {Destination}; source entry deleted";
        }
        finally
        {
            Registry.LocalMachine.DeleteSubKeyTree(SelfTestKey.Path, throwOnMissingSubKey: false);
        }
    }
}
