using Rehome.Agent.Jobs.MigrateUserProfile;
using Rehome.Agent.Platform;
using Rehome.Agent.Platform.Simulated;
using Rehome.Security.Sids;

namespace Rehome.Agent.Tests.Profiles;

public sealed class ProfileListRulesTests
{
    private const string Sid = "S-1-5-21-1004336348-1177238915-682003330-10001";
    private static readonly SecurityIdentifier Destination = SecurityIdentifier.Parse("S-1-5-21-2222222222-3333333333-444444444-10001");

    private static ProfileListEntry Entry(string keyName, uint state, string folder = @"C:\Users\user00001") =>
        SimulatedProfiles.NewEntry(Sid, folder, state) with { KeyName = keyName };

    [Fact]
    public void A_profile_set_aside_as_bak_is_the_one_handed_over_and_the_temporary_entry_beside_it_goes()
    {
        var temporary = Entry(Sid, ProfileListEntry.TemporaryState, @"C:\Users\TEMP");
        var backup = Entry(Sid + ".bak", ProfileListEntry.BackupState);

        var choice = ProfileListRules.Choose(@"CONTOSO\user00001", Sid, temporary, backup);

        Assert.Same(backup, choice.Source);
        Assert.Same(temporary, choice.Temporary);
    }

    [Fact]
    public void A_temporary_profile_alone_is_refused_because_windows_deletes_it_at_sign_out()
    {
        var choice = ProfileListRules.Choose(@"CONTOSO\user00001", Sid, Entry(Sid, ProfileListEntry.TemporaryState), null);

        Assert.Null(choice.Source);
        Assert.Equal("ProfileTemporary", choice.RefusalCode);
    }

    [Fact]
    public void No_entry_for_the_sid_is_refused_naming_the_user_and_the_sid()
    {
        var choice = ProfileListRules.Choose(@"CONTOSO\user00001", Sid, null, null);

        Assert.Equal("ProfileNotFound", choice.RefusalCode);
        Assert.Contains(Sid, choice.Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void The_destination_entry_holds_every_value_with_its_type_and_bytes_but_the_sid()
    {
        var source = Entry(Sid, 0x100).With(new RegistryValue("Odd", 0x1234, [1, 2, 3]));

        var copy = ProfileListRules.ForDestination(source, Destination);

        Assert.Equal(Destination.ToString(), copy.KeyName);
        Assert.Equal(source.Values.Select(v => v.Name), copy.Values.Select(v => v.Name));
        Assert.All(source.Values.Where(v => v.Name != "Sid"), v => Assert.True(v.SameAs(copy.Value(v.Name)!), v.Name));
        Assert.Equal(Destination.ToArray(), copy.Value("Sid")!.Data);
        Assert.Equal(RegistryValue.Binary, copy.Value("Sid")!.Type);
    }

    [Fact]
    public void A_bak_entry_loses_its_backup_and_temporary_state_bits_and_its_reference_count_as_in_windows_repair()
    {
        var source = Entry(Sid + ".bak", ProfileListEntry.BackupState | 0x100).With(RegistryValue.OfDWord("RefCount", 3));

        var copy = ProfileListRules.ForDestination(source, Destination);

        Assert.Equal(0x100u, copy.State);
        Assert.Equal(0u, copy.Value("RefCount")!.AsDWord());
    }

    [Fact]
    public void A_destination_account_with_its_own_profile_elsewhere_is_a_conflict_but_this_hand_overs_own_entry_is_not()
    {
        var own = SimulatedProfiles.NewEntry(Destination.ToString(), @"C:\Users\user00001");
        var other = SimulatedProfiles.NewEntry(Destination.ToString(), @"C:\Users\user00001.FABRIKAM");

        Assert.Null(ProfileListRules.Conflict(null, @"C:\Users\user00001"));
        Assert.Null(ProfileListRules.Conflict(own, @"C:\Users\user00001\"));
        Assert.Contains("orphan", ProfileListRules.Conflict(other, @"C:\Users\user00001"), StringComparison.Ordinal);
    }
}
