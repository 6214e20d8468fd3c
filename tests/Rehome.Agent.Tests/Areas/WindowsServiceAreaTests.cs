using System.Runtime.Versioning;
using Rehome.Agent.Platform.Windows.Areas;
using Rehome.Agent.Tests.Windows;
using Rehome.Protocol;
using Rehome.Security.Reacl;
using Rehome.Security.Sids;
using Rehome.Security.Stores;
using static Rehome.Agent.Tests.Areas.AreaWalks;

namespace Rehome.Agent.Tests.Areas;

[SupportedOSPlatform("windows")]
public sealed class WindowsServiceAreaTests : IDisposable
{
    private const string LocalUser = "S-1-5-21-555-666-777-1001";
    private const string SourceManaged = "S-1-5-21-1000-2000-3000-3001";
    private const string DestinationManaged = "S-1-5-21-7000-8000-9000-4001";

    private readonly FakeServiceCalls calls = new();
    private readonly FakeAccountNames names = new();
    private readonly string folder = Directory.CreateTempSubdirectory("rehome-services-").FullName;

    public WindowsServiceAreaTests()
    {
        calls.Add("Spooler", Untouched, "LocalSystem");
        calls.Add("LineOfBusiness", Granted, null);
        calls.Add("W3SVC", Untouched, @"NT AUTHORITY\LocalService");
        calls.Add("LocalTool", Untouched, @".\tool");
        calls.Add("Reports", Untouched, @"CONTOSO\svc-reports");
        calls.Add("Sync", Untouched, @"CONTOSO\gmsa-sync$");
        names.Add(@"CONTOSO\svc-reports", SourceUser);
        names.Add(@"FABRIKAM\svc-reports", DestinationUser);
        names.Add(@"CONTOSO\gmsa-sync$", SourceManaged);
        names.Add(@"FABRIKAM\gmsa-sync$", DestinationManaged);
        names.Add(@"PC01\tool", LocalUser);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private ServiceAccountStore Accounts() => new(calls, names, new FakeErrors(), "PC01");

    [Fact]
    public void The_services_area_has_every_services_descriptor_and_run_as_account()
    {
        using var area = ServiceAccountStore.Open(calls, names, new FakeErrors(), "PC01", includeSacl: false);

        Assert.Equal(ReaclArea.Services, area.Area);
        Assert.Equal(["service:LineOfBusiness", "service:LocalTool", "service:Reports", "service:Spooler", "service:Sync", "service:W3SVC"], area.Roots);
        Assert.Equal(["LineOfBusiness", "LocalTool", "Reports", "Spooler", "Sync", "W3SVC"], area.Holders!.EnumerateItems());
        Assert.Equal(1, area.Holders.MaxHolders("Spooler"));
    }

    [Fact]
    public void Service_descriptors_are_read_and_written_with_the_same_parts_and_the_access_each_needs()
    {
        var store = new ServiceSecurityStore(calls, new FakeErrors(), includeSacl: true);

        store.WriteDescriptor("service:Spooler", store.ReadDescriptor("service:Spooler"));

        const uint All = SecurityParts.Owner | SecurityParts.Group | SecurityParts.Dacl | SecurityParts.Sacl;
        Assert.Equal(
            [("Spooler", SecurityParts.ReadControl | SecurityParts.AccessSystemSecurity, All),
             ("Spooler", SecurityParts.WriteOwner | SecurityParts.WriteDac | SecurityParts.AccessSystemSecurity, All)],
            calls.DescriptorCalls);
    }

    [Fact]
    public void Without_the_sacl_a_service_is_opened_with_read_control_and_write_dac_and_owner_only()
    {
        Assert.Equal(SecurityParts.ReadControl, SecurityParts.AccessFor(SecurityParts.Of(includeSacl: false), write: false));
        Assert.Equal(SecurityParts.WriteDac, SecurityParts.AccessFor(SecurityParts.Dacl, write: true));
        Assert.Equal(SecurityParts.WriteOwner | SecurityParts.WriteDac, SecurityParts.AccessFor(SecurityParts.Of(includeSacl: false), write: true));
    }

    [Fact]
    public void A_walk_translates_the_service_descriptors_and_the_undo_journal_restores_them_byte_for_byte()
    {
        var store = new ServiceSecurityStore(calls, new FakeErrors(), includeSacl: true);
        var before = Snapshot(store, store.ItemPaths());
        var journal = Path.Combine(folder, "services.undo");

        var result = Walk(store, store.ItemPaths(), journal);

        Assert.Equal((6, 1, 0), (result.Seen, result.Changed, result.Failed));
        Assert.Contains(DestinationGroup, Sddl(calls.Descriptors["LineOfBusiness"]), StringComparison.Ordinal);
        UndoJournal.Revert(store, journal);
        Assert.Equal(before, Snapshot(store, store.ItemPaths()));
    }

    [Fact]
    public void A_service_deleted_mid_walk_is_not_found_and_one_marked_for_deletion_is_in_use()
    {
        var store = new ServiceSecurityStore(calls, new FakeErrors(), includeSacl: false);
        calls.Failing["Sync"] = AreaErrors.ServiceMarkedForDelete;

        Assert.Equal(SecurityStoreErrorKind.NotFound, Assert.Throws<SecurityStoreException>(() => store.ReadDescriptor("service:Gone")).Kind);
        Assert.Equal(SecurityStoreErrorKind.InUse, Assert.Throws<SecurityStoreException>(() => store.ReadDescriptor("service:Sync")).Kind);
    }

    [Theory]
    [InlineData("Spooler", "S-1-5-18")]
    [InlineData("LineOfBusiness", "S-1-5-18")]
    [InlineData("W3SVC", "S-1-5-19")]
    [InlineData("LocalTool", LocalUser)]
    [InlineData("Reports", SourceUser)]
    [InlineData("Sync", SourceManaged)]
    public void The_account_a_service_runs_as_is_its_one_holder(string service, string sid)
    {
        Assert.Equal([SecurityIdentifier.Parse(sid)], Accounts().ReadHolders(service));
    }

    [Fact]
    public void A_run_as_account_that_no_longer_resolves_fails_that_service_only()
    {
        calls.Add("Orphan", Untouched, @"OLDDOMAIN\gone");

        var failure = Assert.Throws<SecurityStoreException>(() => Accounts().ReadHolders("Orphan"));

        // The service is there; what it names is not: not the walk's "not found".
        Assert.Equal((SecurityStoreErrorKind.Other, "Orphan"), (failure.Kind, failure.Path));
        Assert.Contains(@"LookupAccountName(OLDDOMAIN\gone)", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_service_moves_to_a_group_managed_service_account_with_no_password_given()
    {
        Accounts().WriteHolders("Sync", [SecurityIdentifier.Parse(DestinationManaged)]);

        Assert.Equal([("Sync", @"FABRIKAM\gmsa-sync$", (string?)null)], calls.StartNameChanges);
        Assert.Equal([SecurityIdentifier.Parse(DestinationManaged)], Accounts().ReadHolders("Sync"));
    }

    [Fact]
    public void A_service_moves_to_a_built_in_account_with_the_empty_password_windows_asks_for()
    {
        Accounts().WriteHolders("Reports", [SecurityIdentifier.Parse("S-1-5-20")]);

        Assert.Equal([("Reports", @"NT AUTHORITY\NetworkService", (string?)"")], calls.StartNameChanges);
    }

    [Fact]
    public void A_service_is_not_moved_to_a_plain_user_account_whose_password_the_agent_does_not_know()
    {
        var refused = Assert.Throws<SecurityStoreException>(() => Accounts().WriteHolders("Reports", [SecurityIdentifier.Parse(DestinationUser)]));

        Assert.Equal((SecurityStoreErrorKind.Other, "Reports"), (refused.Kind, refused.Path));
        Assert.Contains(RunAsAccounts.NeedsPassword, refused.Message, StringComparison.Ordinal);
        Assert.Contains(@"FABRIKAM\svc-reports", refused.Message, StringComparison.Ordinal);
        Assert.Empty(calls.StartNameChanges);
        Assert.Equal(@"CONTOSO\svc-reports", calls.StartNames["Reports"]);
    }

    [Fact]
    public void Writing_the_account_a_service_already_runs_as_changes_nothing()
    {
        // A revert of a refused move writes the original account back: it must not need a password either.
        Accounts().WriteHolders("Reports", [SecurityIdentifier.Parse(SourceUser)]);
        Accounts().WriteHolders("Spooler", [WellKnownSids.LocalSystem]);

        Assert.Empty(calls.StartNameChanges);
    }

    [Fact]
    public void A_service_cannot_run_as_two_accounts()
    {
        Assert.Throws<SecurityStoreException>(() => Accounts().WriteHolders("Sync", [SecurityIdentifier.Parse(DestinationManaged), WellKnownSids.LocalSystem]));
        Assert.Throws<SecurityStoreException>(() => Accounts().WriteHolders("Sync", []));
    }
}
