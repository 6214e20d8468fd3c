using Rehome.Agent.Platform;
using Rehome.Agent.Platform.Simulated;
using Rehome.Agent.Platform.Windows;

namespace Rehome.Agent.Tests.Profiles;

/// <summary>ProfileList and account names as Windows answers them, in a dictionary.</summary>
internal sealed class FakeProfileListCalls : IProfileListCalls
{
    public Dictionary<string, IReadOnlyList<RegistryValue>> Entries { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Dictionary<string, (string Sid, int Use)> Accounts { get; } = new(StringComparer.OrdinalIgnoreCase);

    public int EntryNames(out IReadOnlyList<string> names)
    {
        names = [.. Entries.Keys];
        return 0;
    }

    public int ReadEntry(string name, out IReadOnlyList<RegistryValue> values)
    {
        values = Entries.GetValueOrDefault(name) ?? [];
        return Entries.ContainsKey(name) ? 0 : 2;
    }

    public int WriteEntry(string name, IReadOnlyList<RegistryValue> values)
    {
        Entries[name] = values;
        return 0;
    }

    public int DeleteEntry(string name)
    {
        Entries.Remove(name);
        return 0;
    }

    public int LookupAccount(string account, out string? sid, out int use)
    {
        (sid, use) = Accounts.TryGetValue(account, out var found) ? found : (null, 0);
        return sid is null ? 1332 : 0;
    }

    public string Describe(int error) => $"error text {error}";

    public string Expand(string path) => path.Replace("%SystemDrive%", "C:", StringComparison.OrdinalIgnoreCase);
}

public sealed class WindowsProfilesTests
{
    private const string Sid = "S-1-5-21-1004336348-1177238915-682003330-10001";
    private readonly FakeProfileListCalls calls = new();

    private WindowsProfiles Profiles => new(calls, _ => throw new InvalidOperationException("No hives in these tests."));

    [Fact]
    public void Profiles_are_the_sid_entries_with_a_folder_expanded_and_bak_entries_are_not_among_them()
    {
        calls.Entries[Sid] = SimulatedProfiles.NewEntry(Sid, @"%SystemDrive%\Users\user00001").Values;
        calls.Entries[Sid + ".bak"] = SimulatedProfiles.NewEntry(Sid, @"C:\Users\old").Values;
        calls.Entries["S-1-5-18"] = [RegistryValue.OfDWord("Flags", 12)];

        Assert.Equal([new UserProfile(Sid, @"C:\Users\user00001")], Profiles.Read());
    }

    [Fact]
    public async Task An_entry_is_read_and_written_whole_and_a_missing_one_is_null()
    {
        var entry = SimulatedProfiles.NewEntry(Sid, @"C:\Users\user00001").With(new RegistryValue("Odd", 0x99, [7]));

        await Profiles.WriteEntryAsync(entry, CancellationToken.None);

        Assert.True((await Profiles.GetEntryAsync(Sid, CancellationToken.None))!.SameValuesAs(entry));
        Assert.Null(await Profiles.GetEntryAsync(Sid + ".bak", CancellationToken.None));
    }

    [Fact]
    public async Task An_account_name_resolves_only_to_a_user_and_an_unknown_one_to_nothing()
    {
        calls.Accounts[@"CONTOSO\user00001"] = (Sid, 1);
        calls.Accounts[@"CONTOSO\Domain Users"] = ("S-1-5-21-1004336348-1177238915-682003330-513", 2);

        Assert.Equal(Sid, await Profiles.FindAccountSidAsync(@"CONTOSO\user00001", CancellationToken.None));
        Assert.Null(await Profiles.FindAccountSidAsync(@"CONTOSO\Domain Users", CancellationToken.None));
        Assert.Null(await Profiles.FindAccountSidAsync(@"CONTOSO\nobody", CancellationToken.None));
    }
}
