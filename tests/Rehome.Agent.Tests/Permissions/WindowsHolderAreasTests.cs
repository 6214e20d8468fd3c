using Rehome.Agent.Platform.Windows;
using Rehome.Agent.Tests.Rejoin;
using Rehome.Agent.Tests.Windows;
using Rehome.Security.Reacl;
using Rehome.Security.Sids;
using Rehome.Security.Stores;

namespace Rehome.Agent.Tests.Permissions;

/// <summary>The Windows local groups and user rights areas' decisions, through their native seams.</summary>
public sealed class WindowsHolderAreasTests : IDisposable
{
    private const string Source = FakeGateway.SourceDomainSid + "-10001";
    private const string Destination = FakeGateway.DestinationDomainSid + "-10001";
    private static readonly SidMap Map = new([new(SecurityIdentifier.Parse(Source), SecurityIdentifier.Parse(Destination))]);
    private readonly string folder = Directory.CreateTempSubdirectory("rehome-holder-areas-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string Journal => Path.Combine(folder, "holders.undo");

    private static FakeLocalAccountCalls Accounts()
    {
        var accounts = new FakeLocalAccountCalls();
        accounts.Groups[FakeLocalAccountCalls.AdministratorsName].Add(Source);
        accounts.Groups["Remotedesktopbenutzer"] = [Source, "S-1-5-32-544"];
        accounts.Groups["Benutzer"] = ["S-1-5-4", "S-1-5-11"];
        return accounts;
    }

    private static WindowsLocalGroups Groups(FakeLocalAccountCalls accounts, int listing = 0) =>
        new(accounts, new FakeLocalGroupCalls(accounts, listing), new FakeErrors());

    [Fact]
    public void Every_local_group_is_an_item_and_its_members_are_read_by_sid()
    {
        var groups = Groups(Accounts());

        Assert.Equal(["Administratoren", "Benutzer", "Remotedesktopbenutzer"], groups.EnumerateItems());
        Assert.Equal([SecurityIdentifier.Parse(Source), SecurityIdentifier.Parse("S-1-5-32-544")], groups.ReadHolders("Remotedesktopbenutzer"));
    }

    [Fact]
    public void A_replaced_member_is_added_as_its_destination_before_the_source_is_removed()
    {
        var accounts = Accounts();

        var result = new HolderWalker(Groups(accounts), Map, TranslationMode.Replace, new HolderWalkOptions { UndoJournalFile = Journal }).Walk();

        Assert.Equal(2, result.Changed);
        Assert.Equal([Destination, "S-1-5-32-544"], accounts.Groups["Remotedesktopbenutzer"].Order(StringComparer.Ordinal));
        Assert.Equal(
            [$"add Administratoren {Destination}", $"remove Administratoren {Source}", $"add Remotedesktopbenutzer {Destination}", $"remove Remotedesktopbenutzer {Source}"],
            accounts.Calls);
    }

    [Fact]
    public void A_destination_the_rejoin_already_made_an_administrator_is_not_added_again()
    {
        var accounts = Accounts();
        accounts.Groups[FakeLocalAccountCalls.AdministratorsName].Add(Destination);

        new HolderWalker(Groups(accounts), Map, TranslationMode.Add, new HolderWalkOptions { UndoJournalFile = Journal }).Walk();

        Assert.Single(accounts.Groups[FakeLocalAccountCalls.AdministratorsName], Destination);
        Assert.DoesNotContain($"add Administratoren {Destination}", accounts.Calls);
    }

    [Fact]
    public void A_member_windows_cannot_resolve_fails_its_group_with_the_reason_and_the_other_groups_are_done()
    {
        var accounts = Accounts();
        accounts.Unresolvable.Add(Destination);

        var result = new HolderWalker(Groups(accounts), Map, TranslationMode.Replace, new HolderWalkOptions { UndoJournalFile = Journal }).Walk();

        Assert.Equal(2, result.Failed);
        Assert.All(result.Errors, e => Assert.Contains("1387", e.Message, StringComparison.Ordinal));
        Assert.Contains(Source, accounts.Groups["Remotedesktopbenutzer"]);
    }

    [Fact]
    public void A_group_that_vanished_is_not_found_and_a_listing_windows_refuses_fails_the_area()
    {
        var groups = Groups(Accounts(), listing: 5);

        Assert.Equal(SecurityStoreErrorKind.NotFound, Assert.Throws<SecurityStoreException>(() => groups.ReadHolders("Gone")).Kind);
        var refused = Assert.Throws<SecurityStoreException>(() => groups.EnumerateItems());
        Assert.Equal(SecurityStoreErrorKind.AccessDenied, refused.Kind);
        Assert.Contains("NetLocalGroupEnum failed with error 5", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void User_rights_are_carried_over_right_by_right_and_revert_to_the_same_holders()
    {
        var logon = new FakeLogonRights();
        logon.Add(Source, "SeRemoteInteractiveLogonRight");
        logon.Add(Source, "SeBatchLogonRight");
        logon.Add("S-1-5-32-544", "SeRemoteInteractiveLogonRight");
        var before = logon.Snapshot();
        var rights = new WindowsUserRights(new FakeUserRightsCalls(logon), logon, new FakeErrors());

        var result = new HolderWalker(rights, Map, TranslationMode.Replace, new HolderWalkOptions { UndoJournalFile = Journal }).Walk();

        Assert.Equal(WindowsUserRights.Names.Count, result.Seen);
        Assert.Equal(2, result.Changed);
        Assert.Equal(["SeBatchLogonRight", "SeRemoteInteractiveLogonRight"], logon.Rights[Destination].Order(StringComparer.Ordinal));
        Assert.Empty(logon.Rights[Source]);
        HolderWalker.Revert(rights, Journal);
        Assert.Equal(before, logon.Snapshot());
    }

    [Fact]
    public void A_right_this_windows_does_not_know_is_not_found_and_a_holder_already_gone_is_no_error()
    {
        var logon = new FakeLogonRights();
        var calls = new FakeUserRightsCalls(logon) { Unknown = { "SeDelegateSessionUserImpersonatePrivilege" } };
        var rights = new WindowsUserRights(calls, logon, new FakeErrors());

        Assert.Equal(SecurityStoreErrorKind.NotFound,
            Assert.Throws<SecurityStoreException>(() => rights.ReadHolders("SeDelegateSessionUserImpersonatePrivilege")).Kind);
        // LSA still listed the holder, but it lost the right meanwhile: its removal answers 2, which is what was asked.
        calls.Stale.Add(Source);
        rights.WriteHolders("SeServiceLogonRight", []);
        Assert.DoesNotContain(Source, logon.Rights.Keys);
    }

    /// <summary>NetLocalGroupEnum over the fake accounts' groups; <paramref name="status"/> other than 0 refuses the listing.</summary>
    private sealed class FakeLocalGroupCalls(FakeLocalAccountCalls accounts, int status) : ILocalGroupCalls
    {
        public int EnumerateGroups(out IReadOnlyList<string> names)
        {
            names = status == 0 ? [.. accounts.Groups.Keys] : [];
            return status;
        }
    }

    /// <summary>LsaEnumerateAccountsWithUserRight over the fake logon rights (by SID, turned around).</summary>
    private sealed class FakeUserRightsCalls(FakeLogonRights logon) : IUserRightsCalls
    {
        /// <summary>Rights this Windows does not know (1313).</summary>
        public HashSet<string> Unknown { get; } = [];

        /// <summary>SIDs listed as holders once more after they lost the right (a removal then answers 2).</summary>
        public HashSet<string> Stale { get; } = [];

        public int AccountsWithRight(string right, out IReadOnlyList<string> sids)
        {
            sids = [.. logon.Rights.Where(r => r.Value.Contains(right)).Select(r => r.Key).Union(Stale).Order(StringComparer.Ordinal)];
            return Unknown.Contains(right) ? 1313 : 0;
        }
    }
}
