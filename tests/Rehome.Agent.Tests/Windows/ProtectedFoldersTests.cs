using Rehome.Agent.Platform.Windows.Installation;

namespace Rehome.Agent.Tests.Windows;

public sealed class ProtectedFoldersTests
{
    private const string Protected = ProtectedFolders.Sddl;
    private const string UserSid = "S-1-5-21-1004336348-1177238915-682003330-1001";
    private static readonly string Root = Path.Combine("ProgramData", "Rehome");
    private static readonly string Staging = Path.Combine(Root, "staging");

    private readonly FakeFolderSecurity security = new();

    private ProtectedFolders Folders(params string[] extra) => new(Root, security, extra);

    private void AllProtected()
    {
        foreach (var folder in Folders().Folders)
        {
            security.Folder(folder, Protected);
        }
    }

    [Fact]
    public void Folders_owned_by_administrators_with_the_protected_system_and_administrators_dacl_pass()
    {
        AllProtected();

        Assert.Empty(Folders().Check());
        Assert.Equal([Root, Path.Combine(Root, "Agent"), Staging, Path.Combine(Root, "logs")], Folders().Folders);
    }

    [Fact]
    public void The_same_two_entries_in_the_other_order_pass()
    {
        AllProtected();
        security.Folder(Staging, "O:BAD:P(A;OICI;FA;;;BA)(A;OICI;FA;;;SY)");

        Assert.Empty(Folders().Check());
    }

    [Fact]
    public void A_missing_folder_is_refused_and_the_fix_is_to_install()
    {
        AllProtected();
        security.Entries.Remove(Staging);

        var refusal = Assert.Single(Folders().Check());

        Assert.Equal(Staging, refusal.Folder);
        Assert.Contains("rehome-agent install", refusal.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void A_staging_folder_a_standard_user_precreated_and_owns_is_refused()
    {
        AllProtected();
        security.Folder(Staging, $"O:{UserSid}D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)");

        var refusal = Assert.Single(Folders().Check());

        Assert.Equal(Staging, refusal.Folder);
        Assert.Contains(UserSid, refusal.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_owned_by_system_rather_than_administrators_is_refused()
    {
        AllProtected();
        security.Folder(Root, "O:SYD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)");

        Assert.Equal(Root, Assert.Single(Folders().Check()).Folder);
    }

    [Theory]
    [InlineData("O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FR;;;BU)", "(A;OICI;FR;;;BU)")]
    [InlineData("O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;CO)", "(A;OICI;FA;;;CO)")]
    [InlineData("O:BAD:P(D;OICI;FA;;;BU)(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)", "(D;OICI;FA;;;BU)")]
    [InlineData("O:BAD:P(A;OICI;FR;;;SY)(A;OICI;FA;;;BA)", "(A;OICI;FR;;;SY)")]
    [InlineData("O:BAD:P(A;;FA;;;SY)(A;OICI;FA;;;BA)", "(A;;FA;;;SY)")]
    public void An_entry_beyond_full_control_for_system_and_administrators_is_refused(string sddl, string named)
    {
        AllProtected();
        security.Folder(Staging, sddl);

        var refusal = Assert.Single(Folders().Check());

        Assert.Contains(named, refusal.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("O:BAD:(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)", "inherits")]
    [InlineData("O:BAD:P(A;OICI;FA;;;SY)", "exactly")]
    [InlineData("O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)", "exactly")]
    [InlineData("O:BA", "no DACL")]
    public void An_unprotected_incomplete_or_absent_dacl_is_refused(string sddl, string problem)
    {
        AllProtected();
        security.Folder(Staging, sddl);

        Assert.Contains(problem, Assert.Single(Folders().Check()).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_junction_in_place_of_a_folder_is_refused_without_reading_through_it()
    {
        AllProtected();
        security.Junction(Staging);

        var refusal = Assert.Single(Folders().Check());

        Assert.Contains("junction", refusal.Problem, StringComparison.Ordinal);
        Assert.Contains("rmdir", refusal.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_whose_permissions_the_agent_may_not_even_read_is_refused()
    {
        AllProtected();
        security.Entries[Staging] = new FolderFacts(IsDirectory: true, IsReparsePoint: false, []);

        Assert.Contains("takeown", Assert.Single(Folders().Check()).Fix, StringComparison.Ordinal);
        Assert.Single(Folders().Ensure());
        Assert.Empty(security.Applied);
    }

    [Fact]
    public void A_file_in_place_of_a_folder_is_refused()
    {
        AllProtected();
        security.File(Staging, Protected);

        Assert.Contains("file", Assert.Single(Folders().Check()).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_state_folder_configured_elsewhere_is_checked_too()
    {
        AllProtected();
        var elsewhere = Path.Combine("D", "RehomeState");

        var refusal = Assert.Single(Folders(elsewhere).Check());

        Assert.Equal(elsewhere, refusal.Folder);
    }

    [Fact]
    public void Ensure_creates_every_missing_folder_with_the_protected_descriptor_and_leaves_good_ones_alone()
    {
        security.Folder(Root, Protected);

        Assert.Empty(Folders().Ensure());

        Assert.Equal([Path.Combine(Root, "Agent"), Staging, Path.Combine(Root, "logs")], security.Created);
        Assert.Empty(security.Applied);
        Assert.Empty(Folders().Check());
    }

    [Fact]
    public void Ensure_repairs_a_folder_an_older_agent_left_with_inherited_permissions()
    {
        AllProtected();
        security.Folder(Path.Combine(Root, "Agent"), "O:BAD:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;0x1200a9;;;BU)");
        security.File(Path.Combine(Root, "Agent", "agent.json"), "O:SYD:AI(A;ID;FA;;;SY)");

        Assert.Empty(Folders().Ensure());

        Assert.Equal([Path.Combine(Root, "Agent")], security.Applied);
        Assert.Empty(Folders().Check());
    }

    [Fact]
    public void Ensure_refuses_a_folder_a_user_owns_and_changes_nothing_in_it()
    {
        AllProtected();
        security.Folder(Staging, $"O:{UserSid}D:(A;OICI;FA;;;{UserSid})");

        var refusal = Assert.Single(Folders().Ensure());

        Assert.Equal(Staging, refusal.Folder);
        Assert.Contains("delete it", refusal.Fix, StringComparison.Ordinal);
        Assert.Empty(security.Applied);
    }

    [Fact]
    public void Ensure_refuses_an_administrators_folder_that_holds_a_file_a_user_planted()
    {
        AllProtected();
        security.Folder(Staging, "O:BAD:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;0x100116;;;BU)");
        var planted = Path.Combine(Staging, "destination.ppkg");
        security.File(planted, $"O:{UserSid}D:(A;;FA;;;{UserSid})");

        var refusal = Assert.Single(Folders().Ensure());

        Assert.Contains(planted, refusal.Fix, StringComparison.Ordinal);
        Assert.Empty(security.Applied);
    }

    [Fact]
    public void Ensure_refuses_a_junction_and_does_not_follow_it()
    {
        security.Junction(Root);

        var refusal = Assert.Single(Folders().Ensure());

        Assert.Equal(Root, refusal.Folder);
        Assert.Empty(security.Created);
        Assert.Empty(security.Applied);
    }
}
