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
public sealed class WindowsTaskAreaTests : IDisposable
{
    private const string Defrag = @"\Microsoft\Windows\Defrag\ScheduledDefrag";
    private const string Notes = @"\Contoso\Sync notes";
    private const string Backup = @"\Contoso\Backup";
    private const string Report = @"\Contoso\Report";
    private const string Helpdesk = @"\Contoso\Helpdesk";
    private const string DestinationManaged = "S-1-5-21-7000-8000-9000-4001";

    private readonly FakeTaskCalls calls = new();
    private readonly FakeAccountNames names = new();
    private readonly string folder = Directory.CreateTempSubdirectory("rehome-tasks-").FullName;

    public WindowsTaskAreaTests()
    {
        calls.Add(Defrag, Untouched, new TaskPrincipal("S-1-5-18", null, TaskLogonType.ServiceAccount));
        calls.Add(Notes, Granted, new TaskPrincipal(SourceUser, null, TaskLogonType.InteractiveToken));
        calls.Add(Backup, Untouched, new TaskPrincipal(@"CONTOSO\svc-backup", null, TaskLogonType.Password));
        calls.Add(Report, Untouched, new TaskPrincipal(@"CONTOSO\alice", null, TaskLogonType.S4U));
        calls.Add(Helpdesk, Untouched, new TaskPrincipal(null, @"CONTOSO\Helpdesk", TaskLogonType.Group));
        names.Add(@"CONTOSO\svc-backup", "S-1-5-21-1000-2000-3000-1300");
        names.Add(@"CONTOSO\alice", SourceUser);
        names.Add(@"FABRIKAM\alice", DestinationUser);
        names.Add(@"CONTOSO\Helpdesk", SourceGroup);
        names.Add(@"FABRIKAM\Helpdesk", DestinationGroup);
        names.Add(@"FABRIKAM\gmsa-backup$", DestinationManaged);
        names.Add(@"NT AUTHORITY\SYSTEM", "S-1-5-18");
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string Principals => Path.Combine(folder, "task-principals.json");

    private TaskAccountStore Accounts() => new(calls, names, new FakeErrors(), new(Principals));

    [Fact]
    public void The_tasks_area_has_every_tasks_descriptor_and_principal_by_path()
    {
        using var area = TaskAccountStore.Open(calls, names, new FakeErrors(), Principals);

        Assert.Equal(ReaclArea.ScheduledTasks, area.Area);
        Assert.Equal([$"task:{Backup}", $"task:{Helpdesk}", $"task:{Report}", $"task:{Notes}", $"task:{Defrag}"], area.Roots);
        Assert.Equal([Backup, Helpdesk, Report, Notes, Defrag], area.Holders!.EnumerateItems());
    }

    [Fact]
    public void A_walk_translates_task_descriptors_and_the_undo_journal_restores_them_byte_for_byte()
    {
        var store = new TaskSecurityStore(calls, new FakeErrors());
        var before = Snapshot(store, store.ItemPaths());
        var journal = Path.Combine(folder, "tasks.undo");

        var result = Walk(store, store.ItemPaths(), journal);

        Assert.Equal((5, 1, 0), (result.Seen, result.Changed, result.Failed));
        Assert.Contains(DestinationUser, Sddl(calls.Descriptors[Notes]), StringComparison.Ordinal);
        UndoJournal.Revert(store, journal);
        Assert.Equal(before, Snapshot(store, store.ItemPaths()));
    }

    [Fact]
    public void A_task_deleted_mid_walk_answers_a_com_not_found_that_is_not_found()
    {
        var failure = Assert.Throws<SecurityStoreException>(() => new TaskSecurityStore(calls, new FakeErrors()).ReadDescriptor(@"task:\Gone"));

        Assert.Equal((SecurityStoreErrorKind.NotFound, @"task:\Gone"), (failure.Kind, failure.Path));
    }

    [Theory]
    [InlineData(Defrag, "S-1-5-18")]
    [InlineData(Notes, SourceUser)]
    [InlineData(Report, SourceUser)]
    [InlineData(Helpdesk, SourceGroup)]
    public void A_tasks_principal_held_as_a_sid_or_a_name_is_its_one_holder(string task, string sid)
    {
        Assert.Equal([SecurityIdentifier.Parse(sid)], Accounts().ReadHolders(task));
    }

    [Fact]
    public void A_task_that_runs_without_a_stored_password_moves_to_its_destination_user_logging_on_as_before()
    {
        Accounts().WriteHolders(Report, [SecurityIdentifier.Parse(DestinationUser)]);

        Assert.Equal([(Report, new TaskPrincipal(@"FABRIKAM\alice", null, TaskLogonType.S4U))], calls.Registered);
    }

    [Fact]
    public void A_group_task_moves_its_group()
    {
        Accounts().WriteHolders(Helpdesk, [SecurityIdentifier.Parse(DestinationGroup)]);

        Assert.Equal([(Helpdesk, new TaskPrincipal(null, @"FABRIKAM\Helpdesk", TaskLogonType.Group))], calls.Registered);
    }

    [Fact]
    public void A_task_with_a_stored_password_is_not_moved_to_a_plain_user_account()
    {
        var refused = Assert.Throws<SecurityStoreException>(() => Accounts().WriteHolders(Backup, [SecurityIdentifier.Parse(DestinationUser)]));

        Assert.Contains(RunAsAccounts.NeedsPassword, refused.Message, StringComparison.Ordinal);
        Assert.Empty(calls.Registered);
    }

    [Fact]
    public void A_task_with_a_stored_password_moves_to_a_managed_service_account_or_a_built_in_one()
    {
        Accounts().WriteHolders(Backup, [SecurityIdentifier.Parse(DestinationManaged)]);
        Accounts().WriteHolders(Notes, [WellKnownSids.LocalSystem]);

        Assert.Equal(
            [(Backup, new TaskPrincipal(@"FABRIKAM\gmsa-backup$", null, TaskLogonType.Password)),
             (Notes, new TaskPrincipal(@"NT AUTHORITY\SYSTEM", null, TaskLogonType.ServiceAccount))],
            calls.Registered);
    }

    [Fact]
    public void Writing_back_the_account_a_task_ran_as_restores_its_principal_verbatim_after_a_move_changed_how_it_logs_on()
    {
        Accounts().WriteHolders(Report, [SecurityIdentifier.Parse(DestinationManaged)]);
        Accounts().WriteHolders(Notes, [WellKnownSids.LocalSystem]);

        Accounts().WriteHolders(Report, [SecurityIdentifier.Parse(SourceUser)]);
        Accounts().WriteHolders(Notes, [SecurityIdentifier.Parse(SourceUser)]);

        Assert.Equal(new TaskPrincipal(@"CONTOSO\alice", null, TaskLogonType.S4U), calls.Principals[Report]);
        Assert.Equal(new TaskPrincipal(SourceUser, null, TaskLogonType.InteractiveToken), calls.Principals[Notes]);
    }

    [Fact]
    public void A_task_moved_from_a_stored_password_is_not_restored_to_it_without_the_password()
    {
        Accounts().WriteHolders(Backup, [WellKnownSids.LocalSystem]);

        var refused = Assert.Throws<SecurityStoreException>(() => Accounts().WriteHolders(Backup, [SecurityIdentifier.Parse("S-1-5-21-1000-2000-3000-1300")]));

        Assert.Contains(RunAsAccounts.NeedsPassword, refused.Message, StringComparison.Ordinal);
        Assert.Equal(new TaskPrincipal(@"NT AUTHORITY\SYSTEM", null, TaskLogonType.ServiceAccount), calls.Principals[Backup]);
    }

    [Fact]
    public void Writing_the_account_a_task_already_runs_as_registers_nothing()
    {
        Accounts().WriteHolders(Notes, [SecurityIdentifier.Parse(SourceUser)]);

        Assert.Empty(calls.Registered);
    }

    [Theory]
    [InlineData(@"\Microsoft\Windows\Defrag\ScheduledDefrag", @"\Microsoft\Windows\Defrag", "ScheduledDefrag")]
    [InlineData(@"\Root task", @"\", "Root task")]
    public void A_task_path_is_its_folder_and_its_name(string path, string folderPath, string name)
    {
        Assert.Equal((folderPath, name), NativeTaskCalls.Split(path));
    }
}
