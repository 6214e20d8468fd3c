using Rehome.Agent.Platform;
using Rehome.Agent.Platform.Simulated;
using Rehome.Agent.Platform.Simulated.Areas;
using Rehome.Agent.Platform.Windows.Areas;
using Rehome.Protocol;
using Rehome.Security.Reacl;
using Rehome.Security.Sids;
using Rehome.Security.Stores;
using static Rehome.Agent.Tests.Areas.AreaWalks;

namespace Rehome.Agent.Tests.Areas;

public sealed class SimulatedAreasTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("rehome-simareas-").FullName;
    private readonly SimulatedDevicePlatform device;

    public SimulatedAreasTests()
    {
        var deviceFolder = Path.Combine(folder, "device");
        SimulatedDeviceBuilder.Create(deviceFolder, new SimulatedDeviceSpec
        {
            DeviceName = "PC01",
            DomainName = "contoso.test",
            Users = [new SimulatedUser("alice", SourceUser)],
            Groups = [SourceGroup],
            FilesPerUser = 1,
        });
        device = new SimulatedDevicePlatform(deviceFolder, new NetworkGate(), TimeProvider.System);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static JobPolicy Policy => new();

    [Theory]
    [InlineData(ReaclArea.Shares, SimulatedShares.FileName, 1)]
    [InlineData(ReaclArea.Services, SimulatedServices.FileName, 2)]
    [InlineData(ReaclArea.Printers, SimulatedPrinters.FileName, 1)]
    [InlineData(ReaclArea.ScheduledTasks, SimulatedTasks.FileName, 2)]
    public void Each_simulated_area_is_walked_changed_where_it_names_the_source_and_reverted_byte_for_byte(ReaclArea kind, string file, int items)
    {
        using var area = device.Areas.Open(kind, Policy);
        var store = area.Store!;
        var before = Snapshot(store, area.Roots);
        var journal = Path.Combine(folder, kind + ".undo");

        var result = Walk(store, area.Roots, journal);

        Assert.True(File.Exists(Path.Combine(device.Folder, file)));
        Assert.Equal(items, result.Seen);
        Assert.Equal(0, result.Failed);
        Assert.Equal(1, result.Changed);
        var changed = Snapshot(store, area.Roots);
        Assert.DoesNotContain(changed.Values, d => Sddl(d).Contains(SourceUser, StringComparison.Ordinal) || Sddl(d).Contains(SourceGroup, StringComparison.Ordinal));
        Assert.Contains(changed.Values, d => Sddl(d).Contains("S-1-5-21-7000-8000-9000-", StringComparison.Ordinal));

        Assert.Equal(1, UndoJournal.Revert(store, journal).Restored);
        Assert.Equal(before, Snapshot(store, area.Roots));
    }

    [Fact]
    public void The_simulated_administrative_shares_are_not_walked()
    {
        using var area = device.Areas.Open(ReaclArea.Shares, Policy);

        Assert.Equal(["share:Data"], area.Roots);
        Assert.Equal(SecurityStoreErrorKind.Other, Assert.Throws<SecurityStoreException>(() => area.Store!.ReadDescriptor("share:ADMIN$")).Kind);
        Assert.Equal(SecurityStoreErrorKind.NotFound, Assert.Throws<SecurityStoreException>(() => area.Store!.ReadDescriptor("share:Gone")).Kind);
    }

    [Fact]
    public void The_seeded_user_task_moves_to_the_destination_user_and_back()
    {
        using var area = device.Areas.Open(ReaclArea.ScheduledTasks, Policy);
        var holders = area.Holders!;
        const string Task = @"\Contoso\Sync notes";

        Assert.Equal([@"\Contoso\Sync notes", @"\Microsoft\Windows\Defrag\ScheduledDefrag"], holders.EnumerateItems());
        Assert.Equal([SecurityIdentifier.Parse(SourceUser)], holders.ReadHolders(Task));
        holders.WriteHolders(Task, [SecurityIdentifier.Parse(DestinationUser)]);
        Assert.Equal([SecurityIdentifier.Parse(DestinationUser)], holders.ReadHolders(Task));
        holders.WriteHolders(Task, [SecurityIdentifier.Parse(SourceUser)]);
        Assert.Equal([SecurityIdentifier.Parse(SourceUser)], holders.ReadHolders(Task));
        Assert.Equal(1, holders.MaxHolders(Task));
    }

    [Fact]
    public void A_simulated_task_moved_to_a_built_in_account_logs_on_as_a_service_and_its_revert_does_not_pretend_to_have_the_password()
    {
        var tasks = SimulatedTasks.File(device.Folder);
        tasks.Change(@"\Contoso\Backup", _ => new SimulatedAreaItem { Descriptor = Untouched, Account = SourceUser, Logon = SimulatedLogon.Password });
        using var area = device.Areas.Open(ReaclArea.ScheduledTasks, Policy);
        var holders = area.Holders!;

        holders.WriteHolders(@"\Contoso\Backup", [WellKnownSids.LocalSystem]);
        var moved = tasks.Read()[@"\Contoso\Backup"];
        var refused = Assert.Throws<SecurityStoreException>(() => holders.WriteHolders(@"\Contoso\Backup", [SecurityIdentifier.Parse(SourceUser)]));

        Assert.Equal(("S-1-5-18", SimulatedLogon.NoPassword), (moved.Account, moved.Logon));
        Assert.Contains(RunAsAccounts.NeedsPassword, refused.Message, StringComparison.Ordinal);
        Assert.Equal(("S-1-5-18", SimulatedLogon.NoPassword), (tasks.Read()[@"\Contoso\Backup"].Account, tasks.Read()[@"\Contoso\Backup"].Logon));
    }

    [Fact]
    public void A_simulated_managed_account_task_moved_to_a_built_in_account_and_back_is_managed_again()
    {
        var tasks = SimulatedTasks.File(device.Folder);
        tasks.Change(@"\Contoso\Backup", _ => new SimulatedAreaItem { Descriptor = Untouched, Account = SourceUser, Logon = SimulatedLogon.Managed });
        using var area = device.Areas.Open(ReaclArea.ScheduledTasks, Policy);

        area.Holders!.WriteHolders(@"\Contoso\Backup", [WellKnownSids.LocalSystem]);
        area.Holders!.WriteHolders(@"\Contoso\Backup", [SecurityIdentifier.Parse(SourceUser)]);

        Assert.Equal((SourceUser, SimulatedLogon.Managed), (tasks.Read()[@"\Contoso\Backup"].Account, tasks.Read()[@"\Contoso\Backup"].Logon));
    }

    [Fact]
    public void A_simulated_service_with_a_stored_password_is_not_moved_to_a_plain_user_but_a_managed_one_moves()
    {
        var services = SimulatedServices.File(device.Folder);
        services.Change("Reports", _ => new SimulatedAreaItem { Descriptor = Untouched, Account = SourceUser, Logon = SimulatedLogon.Password });
        services.Change("Sync", _ => new SimulatedAreaItem { Descriptor = Untouched, Account = SourceGroup, Logon = SimulatedLogon.Managed });
        using var area = device.Areas.Open(ReaclArea.Services, Policy);
        var holders = area.Holders!;

        var refused = Assert.Throws<SecurityStoreException>(() => holders.WriteHolders("Reports", [SecurityIdentifier.Parse(DestinationUser)]));
        holders.WriteHolders("Sync", [SecurityIdentifier.Parse(DestinationGroup)]);
        holders.WriteHolders("Reports", [WellKnownSids.LocalSystem]);

        Assert.Contains(RunAsAccounts.NeedsPassword, refused.Message, StringComparison.Ordinal);
        Assert.Equal(DestinationGroup, services.Read()["Sync"].Account);
        Assert.Equal("S-1-5-18", services.Read()["Reports"].Account);
    }

    [Fact]
    public void An_area_the_simulated_device_does_not_model_is_not_supported()
    {
        Assert.Throws<AreaNotSupportedException>(() => device.Areas.Open(ReaclArea.ProfileList, Policy));
    }
}
