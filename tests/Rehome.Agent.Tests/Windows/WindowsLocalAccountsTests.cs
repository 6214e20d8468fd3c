using System.Runtime.Versioning;
using Rehome.Agent.Jobs;
using Rehome.Agent.Platform;
using Rehome.Agent.Platform.Windows;
using Rehome.Protocol;

namespace Rehome.Agent.Tests.Windows;

// The Windows classes are marked for Windows; their decisions run anywhere through the fakes.
[SupportedOSPlatform("windows")]
public sealed class WindowsLocalAccountsTests
{
    private const string DestinationSid = "S-1-5-21-7-8-9-1105";
    private const string Password = "Tr0ub4dor&3-correct-horse";

    private readonly FakeLocalAccountCalls calls = new();
    private readonly FakeRegistryValues registry = new();
    private readonly RecordingLogger log = new();

    private WindowsLocalAccounts Accounts() => new(calls, registry, log, new FakeErrors());

    [Fact]
    public async Task Administrators_are_read_from_the_group_by_its_localised_name()
    {
        var members = await Accounts().GetAdministratorsAsync(CancellationToken.None);

        Assert.Equal(["S-1-5-21-100-200-300-500"], members);
    }

    [Fact]
    public async Task An_unresolvable_sid_is_reported_not_thrown()
    {
        calls.Unresolvable.Add(DestinationSid);

        var outcome = await Accounts().AddAdministratorAsync(DestinationSid, CancellationToken.None);

        Assert.Equal(MemberChange.NotResolvable, outcome);
    }

    [Fact]
    public async Task Adding_a_member_already_there_is_already_so()
    {
        await Accounts().AddAdministratorAsync(DestinationSid, CancellationToken.None);

        Assert.Equal(MemberChange.AlreadySo, await Accounts().AddAdministratorAsync(DestinationSid, CancellationToken.None));
    }

    [Fact]
    public async Task Removing_a_member_not_there_is_already_so()
    {
        Assert.Equal(MemberChange.AlreadySo, await Accounts().RemoveAdministratorAsync(DestinationSid, CancellationToken.None));
    }

    [Fact]
    public void Other_group_errors_are_failures()
    {
        Assert.Null(WindowsLocalAccounts.Outcome(5, add: true));
        Assert.Null(WindowsLocalAccounts.Outcome(1377, add: true));
        Assert.Equal(MemberChange.Done, WindowsLocalAccounts.Outcome(0, add: false));
    }

    [Fact]
    public async Task A_new_break_glass_account_is_created_recorded_and_made_administrator()
    {
        var created = await Accounts().CreateBreakGlassAsync(new BreakGlassAccount("rehome-bg", Password), CancellationToken.None);

        Assert.True(created);
        Assert.Equal(Password, calls.Users["rehome-bg"]);
        Assert.Contains(calls.SidOf("rehome-bg"), calls.Groups[FakeLocalAccountCalls.AdministratorsName]);
        Assert.Equal("rehome-bg", registry.Get(WindowsBootCounter.AgentKeyPath, WindowsLocalAccounts.OwnedAccountsValue));
    }

    [Fact]
    public async Task An_account_that_existed_before_Rehome_is_left_as_it_was()
    {
        calls.Users["rehome-bg"] = "theirs";

        var created = await Accounts().CreateBreakGlassAsync(new BreakGlassAccount("rehome-bg", Password), CancellationToken.None);

        Assert.False(created);
        Assert.Equal("theirs", calls.Users["rehome-bg"]);
        Assert.DoesNotContain(calls.Calls, c => c.StartsWith("NetUser", StringComparison.Ordinal) || c.StartsWith("add", StringComparison.Ordinal));
        Assert.Null(registry.Get(WindowsBootCounter.AgentKeyPath, WindowsLocalAccounts.OwnedAccountsValue));
    }

    [Fact]
    public async Task An_account_Rehome_created_before_gets_its_password_reset()
    {
        await Accounts().CreateBreakGlassAsync(new BreakGlassAccount("rehome-bg", "first"), CancellationToken.None);

        var created = await Accounts().CreateBreakGlassAsync(new BreakGlassAccount("rehome-bg", Password), CancellationToken.None);

        Assert.True(created);
        Assert.Equal(Password, calls.Users["rehome-bg"]);
        Assert.Contains("NetUserSetInfo rehome-bg", calls.Calls);
    }

    [Fact]
    public async Task A_crash_after_recording_but_before_creating_still_creates_the_account_as_ours()
    {
        registry.SetString(WindowsBootCounter.AgentKeyPath, WindowsLocalAccounts.OwnedAccountsValue, "rehome-bg");

        Assert.True(await Accounts().CreateBreakGlassAsync(new BreakGlassAccount("rehome-bg", Password), CancellationToken.None));
        Assert.Contains("NetUserAdd rehome-bg", calls.Calls);
    }

    [Fact]
    public async Task An_account_Windows_refused_to_create_is_not_recorded_as_ours()
    {
        calls.RefuseNewUsers = 2245;

        var refusal = await Assert.ThrowsAsync<System.ComponentModel.Win32Exception>(() => Accounts().CreateBreakGlassAsync(new BreakGlassAccount("rehome-bg", "short"), CancellationToken.None));

        Assert.Equal(2245, refusal.NativeErrorCode);
        Assert.Contains("NetUserAdd(rehome-bg)", refusal.Message, StringComparison.Ordinal);

        Assert.Null(registry.Get(WindowsBootCounter.AgentKeyPath, WindowsLocalAccounts.OwnedAccountsValue));
    }

    [Fact]
    public async Task The_password_never_appears_in_a_log_line()
    {
        await Accounts().CreateBreakGlassAsync(new BreakGlassAccount("rehome-bg", Password), CancellationToken.None);
        await Accounts().CreateBreakGlassAsync(new BreakGlassAccount("rehome-bg", Password), CancellationToken.None);
        await Accounts().RemoveBreakGlassAsync("rehome-bg", CancellationToken.None);

        Assert.NotEmpty(log.Lines);
        Assert.DoesNotContain(log.Lines, line => line.Contains(Password, StringComparison.Ordinal));
        Assert.DoesNotContain(registry.Values.Values, value => value.ToString()!.Contains(Password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Removing_deletes_only_an_account_Rehome_created()
    {
        calls.Users["admin-theirs"] = "theirs";

        await Accounts().RemoveBreakGlassAsync("admin-theirs", CancellationToken.None);

        Assert.True(calls.Users.ContainsKey("admin-theirs"));
    }

    [Fact]
    public async Task Removing_an_account_already_gone_is_fine_and_forgets_it()
    {
        await Accounts().CreateBreakGlassAsync(new BreakGlassAccount("rehome-bg", Password), CancellationToken.None);
        calls.Users.Remove("rehome-bg");

        await Accounts().RemoveBreakGlassAsync("rehome-bg", CancellationToken.None);

        Assert.Null(registry.Get(WindowsBootCounter.AgentKeyPath, WindowsLocalAccounts.OwnedAccountsValue));
    }

    [Fact]
    public async Task Other_accounts_recorded_as_ours_stay_recorded()
    {
        await Accounts().CreateBreakGlassAsync(new BreakGlassAccount("first-bg", Password), CancellationToken.None);
        await Accounts().CreateBreakGlassAsync(new BreakGlassAccount("second-bg", Password), CancellationToken.None);

        await Accounts().RemoveBreakGlassAsync("first-bg", CancellationToken.None);

        Assert.Equal("second-bg", registry.Get(WindowsBootCounter.AgentKeyPath, WindowsLocalAccounts.OwnedAccountsValue));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a;b")]
    [InlineData("domain\\user")]
    [InlineData("twenty-one-characters")]
    [InlineData("trailing.")]
    public async Task A_name_Windows_would_refuse_is_refused_before_anything_changes(string name)
    {
        var refusal = await Assert.ThrowsAsync<StepFailedException>(() => Accounts().CreateBreakGlassAsync(new BreakGlassAccount(name, Password), CancellationToken.None));

        Assert.Equal("BadBreakGlassName", refusal.Code);
        Assert.Empty(calls.Calls);
        Assert.Empty(registry.Values);
    }

    [Fact]
    public void An_unreadable_ownership_record_counts_as_none()
    {
        Assert.Empty(WindowsLocalAccounts.OwnedAccounts(42));
        Assert.Equal(["a", "b"], WindowsLocalAccounts.OwnedAccounts(" a ;;b"));
    }
}
