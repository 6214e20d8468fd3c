using System.Runtime.Versioning;
using Rehome.Agent.Platform.Windows.Areas;
using Rehome.Agent.Tests.Windows;
using Rehome.Protocol;
using Rehome.Security.Reacl;
using Rehome.Security.Stores;
using static Rehome.Agent.Tests.Areas.AreaWalks;

namespace Rehome.Agent.Tests.Areas;

[SupportedOSPlatform("windows")]
public sealed class WindowsShareAreaTests : IDisposable
{
    private readonly FakeShareCalls calls = new();
    private readonly string folder = Directory.CreateTempSubdirectory("rehome-shares-").FullName;

    public WindowsShareAreaTests()
    {
        calls.Add("Data", Granted);
        calls.Add("Public", Untouched);
        calls.Add("ADMIN$", null, ShareSecurityStore.TypeSpecial);
        calls.Add("C$", null, ShareSecurityStore.TypeSpecial);
        calls.Add("IPC$", null, ShareSecurityStore.TypeSpecial | ShareSecurityStore.TypeIpc);
        calls.Add("Scratch", null);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private ShareSecurityStore Store() => new(calls, new FakeErrors());

    [Fact]
    public void The_shares_area_walks_each_share_with_a_descriptor_and_lists_the_administrative_shares_as_skipped()
    {
        var store = Store();
        using var area = ShareSecurityStore.Open(calls, new FakeErrors());

        Assert.Equal(ReaclArea.Shares, area.Area);
        Assert.Equal(["share:Data", "share:Public"], area.Roots);
        Assert.Equal(["share:Data", "share:Public"], store.EnumerateChildren("share:"));
        Assert.Equal(["ADMIN$", "C$", "IPC$", "Scratch"], store.Skipped.Select(s => s.Name));
        Assert.Empty(store.EnumerateChildren("share:Data"));
        Assert.False(store.PropagatesInheritance);
        Assert.Null(area.Holders);
    }

    [Fact]
    public void A_walk_translates_the_share_descriptors_and_the_undo_journal_restores_them_byte_for_byte()
    {
        var store = Store();
        var before = Snapshot(store, store.ItemPaths());
        var journal = Path.Combine(folder, "shares.undo");

        var result = Walk(store, store.ItemPaths(), journal);

        Assert.Equal((2, 1, 0), (result.Seen, result.Changed, result.Failed));
        Assert.Contains(DestinationUser, Sddl(calls.Descriptors["Data"]!), StringComparison.Ordinal);
        Assert.DoesNotContain(SourceGroup, Sddl(calls.Descriptors["Data"]!), StringComparison.Ordinal);
        Assert.Equal(1, UndoJournal.Revert(store, journal).Restored);
        Assert.Equal(before, Snapshot(store, store.ItemPaths()));
    }

    [Theory]
    [InlineData(AreaErrors.NerrNetNameNotFound, SecurityStoreErrorKind.NotFound)]
    [InlineData(AreaErrors.AccessDenied, SecurityStoreErrorKind.AccessDenied)]
    [InlineData(87, SecurityStoreErrorKind.Other)]
    public void A_share_the_system_refuses_fails_as_that_item_with_its_kind(int code, SecurityStoreErrorKind kind)
    {
        calls.Failing["Data"] = code;

        var read = Assert.Throws<SecurityStoreException>(() => Store().ReadDescriptor("share:Data"));
        var write = Assert.Throws<SecurityStoreException>(() => Store().WriteDescriptor("share:Data", Untouched));

        Assert.Equal((kind, "share:Data"), (read.Kind, read.Path));
        Assert.Equal(kind, write.Kind);
        Assert.Contains("NetShareGetInfo(Data, 502)", read.Message, StringComparison.Ordinal);
        Assert.Equal(Granted, calls.Descriptors["Data"]);
    }

    [Fact]
    public void A_share_whose_descriptor_went_away_is_reported_not_written()
    {
        calls.Descriptors["Data"] = null;

        Assert.Equal(SecurityStoreErrorKind.Other, Assert.Throws<SecurityStoreException>(() => Store().ReadDescriptor("share:Data")).Kind);
    }

    [Fact]
    public void A_path_outside_the_shares_area_is_an_item_that_is_not_there()
    {
        Assert.Equal(SecurityStoreErrorKind.NotFound, Assert.Throws<SecurityStoreException>(() => Store().ReadDescriptor(@"C:\Data")).Kind);
        Assert.Equal(SecurityStoreErrorKind.NotFound, Assert.Throws<SecurityStoreException>(() => Store().ReadDescriptor("share:")).Kind);
    }

    [Fact]
    public void Shares_that_cannot_be_listed_fail_the_area_as_a_whole()
    {
        calls.ListStatus = 2114; // NERR_ServerNotStarted: the Server service is stopped.

        var failure = Assert.Throws<SecurityStoreException>(() => ShareSecurityStore.Open(calls, new FakeErrors()));

        Assert.Equal("share:", failure.Path);
        Assert.Contains("NetShareEnum", failure.Message, StringComparison.Ordinal);
    }
}
