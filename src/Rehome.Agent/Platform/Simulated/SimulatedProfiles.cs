using Rehome.Agent.Journal;
using Rehome.Agent.Platform.Simulated.Areas;
using Rehome.Security.Sids;

namespace Rehome.Agent.Platform.Simulated;

/// <summary>
/// The simulated ProfileList (<c>profilelist.json</c>: every entry with every value, typed and byte-exact), the
/// accounts the device can resolve by name (<c>accounts.json</c>: what the source domain, reached through a trust or
/// the logon cache, answers to LookupAccountName) and the user hives (<see cref="SimulatedHiveCalls"/>).
/// </summary>
public sealed class SimulatedProfiles : IUserProfiles
{
    private readonly Lock deviceLock;
    private readonly string listFile;
    private readonly string accountsFile;

    public SimulatedProfiles(string folder, SimulatedDeviceStateFile state, FolderSecurityStore files)
    {
        deviceLock = DeviceLocks.For(folder, "profiles");
        listFile = Path.Combine(folder, "profilelist.json");
        accountsFile = Path.Combine(folder, "accounts.json");
        HiveCalls = new SimulatedHiveCalls(folder, state, files);
        Registry = new SimulatedHiveRegistry(HiveCalls);
        // Unload retries do not wait: a lingering handle is a count of refusals here, not a time.
        Hives = new UserHives(HiveCalls, Registry, Read, _ => { });
    }

    public SimulatedHiveCalls HiveCalls { get; }

    /// <summary>HKEY_USERS: the keys of the loaded hives.</summary>
    public SimulatedHiveRegistry Registry { get; }

    public UserHives Hives { get; }

    public Task<IReadOnlyList<UserProfile>> GetAsync(CancellationToken ct) => Task.FromResult(Read());

    public IReadOnlyList<UserProfile> Read() =>
        [.. Entries().Where(e => !e.IsBackup && e.ProfileImagePath is not null).Select(e => new UserProfile(e.KeyName, e.ProfileImagePath!))];

    public IReadOnlyList<ProfileListEntry> Entries() => DurableFile.ReadJson<List<ProfileListEntry>>(listFile) ?? [];

    public Task<ProfileListEntry?> GetEntryAsync(string keyName, CancellationToken ct) =>
        Task.FromResult(Entries().FirstOrDefault(e => e.KeyName.Equals(keyName, StringComparison.OrdinalIgnoreCase)));

    public Task WriteEntryAsync(ProfileListEntry entry, CancellationToken ct)
    {
        Change(entries => [.. entries.Where(e => !e.KeyName.Equals(entry.KeyName, StringComparison.OrdinalIgnoreCase)), entry]);
        return Task.CompletedTask;
    }

    public Task RemoveEntryAsync(string keyName, CancellationToken ct)
    {
        Change(entries => [.. entries.Where(e => !e.KeyName.Equals(keyName, StringComparison.OrdinalIgnoreCase))]);
        return Task.CompletedTask;
    }

    public Task<string?> FindAccountSidAsync(string account, CancellationToken ct)
    {
        var accounts = DurableFile.ReadJson<Dictionary<string, string>>(accountsFile) ?? [];
        return Task.FromResult<string?>(accounts.FirstOrDefault(a => a.Key.Equals(account, StringComparison.OrdinalIgnoreCase)).Value);
    }

    /// <summary>Lets the device resolve <paramref name="names"/> to <paramref name="sid"/>.</summary>
    public void AddAccount(string sid, params IEnumerable<string> names)
    {
        lock (deviceLock)
        {
            var accounts = DurableFile.ReadJson<Dictionary<string, string>>(accountsFile) ?? [];
            foreach (var name in names)
            {
                accounts[name] = sid;
            }
            DurableFile.WriteJson(accountsFile, accounts);
        }
    }

    /// <summary>The entry Windows writes for a profile it created: its folder, the owner's SID, the flags of a profile not in use.</summary>
    public static ProfileListEntry NewEntry(string sid, string folder, uint state = 0) => new(sid,
    [
        RegistryValue.OfString("ProfileImagePath", folder, RegistryValue.ExpandString),
        RegistryValue.OfDWord("Flags", 0),
        RegistryValue.OfDWord("FullProfile", 1),
        RegistryValue.OfDWord("State", state),
        new RegistryValue("Sid", RegistryValue.Binary, SecurityIdentifier.Parse(sid).ToArray()),
        RegistryValue.OfDWord("LocalProfileLoadTimeLow", 0x8c1e4a2f),
        RegistryValue.OfDWord("LocalProfileLoadTimeHigh", 0x01db3f6e),
        RegistryValue.OfDWord("LocalProfileUnloadTimeLow", 0x9d2f5b30),
        RegistryValue.OfDWord("LocalProfileUnloadTimeHigh", 0x01db3f6e),
        RegistryValue.OfDWord("RefCount", 0),
        RegistryValue.OfDWord("RunLogonScriptSync", 0),
    ]);

    private void Change(Func<List<ProfileListEntry>, List<ProfileListEntry>> change)
    {
        lock (deviceLock)
        {
            DurableFile.WriteJson(listFile, change([.. Entries()]));
        }
    }
}
