using System.Runtime.Versioning;
using Rehome.Agent.Platform.Windows.Areas;
using Rehome.Agent.Tests.Windows;
using Rehome.Protocol;
using Rehome.Security.Reacl;
using Rehome.Security.Stores;
using static Rehome.Agent.Tests.Areas.AreaWalks;

namespace Rehome.Agent.Tests.Areas;

[SupportedOSPlatform("windows")]
public sealed class WindowsPrinterAreaTests : IDisposable
{
    private readonly FakePrinterCalls calls = new();
    private readonly string folder = Directory.CreateTempSubdirectory("rehome-printers-").FullName;

    public WindowsPrinterAreaTests()
    {
        calls.Add("Floor 3", Granted);
        calls.Add("Microsoft Print to PDF", Untouched);
        calls.Add(@"\\printserver\Floor 4", Granted, PrinterSecurityStore.AttributeNetwork);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void The_printers_area_walks_the_local_printers_not_the_connections_to_other_computers()
    {
        using var area = PrinterSecurityStore.Open(calls, new FakeErrors());

        Assert.Equal(ReaclArea.Printers, area.Area);
        Assert.Equal(["printer:Floor 3", "printer:Microsoft Print to PDF"], area.Roots);
    }

    [Fact]
    public void A_walk_translates_printer_descriptors_with_read_control_to_read_and_write_dac_and_owner_to_write_and_reverts_byte_for_byte()
    {
        var store = new PrinterSecurityStore(calls, new FakeErrors());
        var before = Snapshot(store, store.ItemPaths());
        var journal = Path.Combine(folder, "printers.undo");

        var result = Walk(store, store.ItemPaths(), journal);

        Assert.Equal((2, 1, 0), (result.Seen, result.Changed, result.Failed));
        Assert.Contains(DestinationUser, Sddl(calls.Descriptors["Floor 3"]), StringComparison.Ordinal);
        Assert.Contains(SecurityParts.WriteDac | SecurityParts.WriteOwner, calls.Accesses);
        Assert.All(calls.Accesses, a => Assert.True(a is SecurityParts.ReadControl or (SecurityParts.WriteDac | SecurityParts.WriteOwner)));
        UndoJournal.Revert(store, journal);
        Assert.Equal(before, Snapshot(store, store.ItemPaths()));
    }

    [Fact]
    public void A_printer_removed_mid_walk_is_not_found()
    {
        var store = new PrinterSecurityStore(calls, new FakeErrors());

        var failure = Assert.Throws<SecurityStoreException>(() => store.ReadDescriptor("printer:Gone"));

        Assert.Equal((SecurityStoreErrorKind.NotFound, "printer:Gone"), (failure.Kind, failure.Path));
    }

    [Fact]
    public void A_stopped_print_spooler_fails_the_area_as_a_whole()
    {
        calls.ListStatus = 1722; // RPC_S_SERVER_UNAVAILABLE

        Assert.Equal(SecurityStoreErrorKind.Other, Assert.Throws<SecurityStoreException>(() => PrinterSecurityStore.Open(calls, new FakeErrors())).Kind);
    }
}
