using System.Runtime.Versioning;
using Rehome.Agent.Platform;
using Rehome.Agent.Platform.Windows;

namespace Rehome.Agent.Tests.Windows;

[SupportedOSPlatform("windows")]
public sealed class WindowsUserSessionTests
{
    private const string Reason = "Your device is moving to Contoso.";
    private const string DomainUserProfile = "S-1-5-21-11-22-33-1104";
    private const string EntraUserProfile = "S-1-12-1-1111-2222-3333-4444";
    private const string LocalAdminProfile = FakeLocalAccountCalls.ComputerSid + "-500";

    private readonly FakeSessionCalls sessions = new();
    private readonly FakeLogonRights rights = new();
    private readonly FakeRegistryValues registry = new();
    private readonly RecordingLogger log = new();

    public WindowsUserSessionTests()
    {
        registry.Subkeys[WindowsUserSession.ProfileListKey] = ["S-1-5-18", "S-1-5-19", LocalAdminProfile, DomainUserProfile, EntraUserProfile, DomainUserProfile + ".bak"];
        registry.SetString(WindowsUserSession.PolicyKey, WindowsUserSession.CaptionValue, "Acme");
        registry.SetString(WindowsUserSession.PolicyKey, WindowsUserSession.TextValue, "Authorised use only.");
    }

    /// <summary>A new instance on the same registry and policy: what the agent sees after a restart.</summary>
    private WindowsUserSession Session() => new(sessions, rights, registry, log);

    [Fact]
    public async Task Locking_denies_sign_in_to_domain_and_Entra_accounts_only()
    {
        await Session().LockAsync(Reason, CancellationToken.None);

        var denied = rights.Rights.Where(r => r.Value.Contains("SeDenyInteractiveLogonRight")).Select(r => r.Key).Order(StringComparer.Ordinal);
        Assert.Equal(["S-1-12-1-1111-2222-3333-4444", "S-1-5-1000", "S-1-5-15", DomainUserProfile], denied);
        Assert.All(rights.Rights.Values, held => Assert.Contains("SeDenyRemoteInteractiveLogonRight", held));
    }

    [Fact]
    public void Local_accounts_and_service_accounts_are_never_denied()
    {
        var denied = WindowsUserSession.DeniedSids(["S-1-5-18", LocalAdminProfile, FakeLocalAccountCalls.ComputerSid + "-1001", "garbage", "S-1-5-21-1-2-3"], FakeLocalAccountCalls.ComputerSid);

        Assert.Equal([WindowsUserSession.ThisOrganization, WindowsUserSession.OtherOrganization], denied);
    }

    [Fact]
    public void Without_the_computer_sid_only_Entra_accounts_are_added_by_profile()
    {
        var denied = WindowsUserSession.DeniedSids([DomainUserProfile, EntraUserProfile], computerSid: null);

        Assert.Equal([WindowsUserSession.ThisOrganization, WindowsUserSession.OtherOrganization, EntraUserProfile], denied);
    }

    [Fact]
    public async Task Locking_shows_why_at_the_sign_in_screen()
    {
        await Session().LockAsync(Reason, CancellationToken.None);

        Assert.Equal(WindowsUserSession.NoticeCaption, registry.Get(WindowsUserSession.PolicyKey, WindowsUserSession.CaptionValue));
        Assert.StartsWith(Reason, (string)registry.Get(WindowsUserSession.PolicyKey, WindowsUserSession.TextValue)!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unlocking_removes_exactly_what_locking_added_and_restores_the_notice()
    {
        rights.Add(WindowsUserSession.ThisOrganization, "SeDenyInteractiveLogonRight");
        rights.Add("S-1-5-32-546", "SeDenyInteractiveLogonRight");
        var before = rights.Snapshot();

        await Session().LockAsync(Reason, CancellationToken.None);
        await Session().UnlockAsync(CancellationToken.None);

        Assert.Equal(before, rights.Snapshot());
        Assert.Equal("Acme", registry.Get(WindowsUserSession.PolicyKey, WindowsUserSession.CaptionValue));
        Assert.Equal("Authorised use only.", registry.Get(WindowsUserSession.PolicyKey, WindowsUserSession.TextValue));
    }

    [Fact]
    public async Task A_notice_that_was_not_there_is_deleted_again()
    {
        registry.Delete(WindowsUserSession.PolicyKey, WindowsUserSession.CaptionValue);
        registry.Delete(WindowsUserSession.PolicyKey, WindowsUserSession.TextValue);

        await Session().LockAsync(Reason, CancellationToken.None);
        await Session().UnlockAsync(CancellationToken.None);

        Assert.Null(registry.Get(WindowsUserSession.PolicyKey, WindowsUserSession.CaptionValue));
        Assert.Null(registry.Get(WindowsUserSession.PolicyKey, WindowsUserSession.TextValue));
    }

    [Fact]
    public async Task The_block_is_seen_by_the_agent_after_a_restart()
    {
        await Session().LockAsync(Reason, CancellationToken.None);

        Assert.True(Session().IsLocked);
        await Session().UnlockAsync(CancellationToken.None);
        Assert.False(Session().IsLocked);
    }

    [Fact]
    public async Task Locking_again_after_a_crash_keeps_the_notice_from_before_the_first_lock()
    {
        await Session().LockAsync(Reason, CancellationToken.None);
        await Session().LockAsync("Still moving.", CancellationToken.None);
        await Session().UnlockAsync(CancellationToken.None);

        Assert.Equal("Acme", registry.Get(WindowsUserSession.PolicyKey, WindowsUserSession.CaptionValue));
        Assert.Empty(rights.Snapshot());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(5)]
    public async Task A_crash_in_the_middle_of_locking_is_undone_by_the_next_agents_unlock(int addsBeforeCrash)
    {
        rights.Add(WindowsUserSession.OtherOrganization, "SeDenyInteractiveLogonRight");
        var before = rights.Snapshot();
        rights.CrashAfterAdds = addsBeforeCrash;

        await Assert.ThrowsAsync<InvalidOperationException>(() => Session().LockAsync(Reason, CancellationToken.None));
        rights.CrashAfterAdds = null;
        Assert.True(Session().IsLocked);
        await Session().UnlockAsync(CancellationToken.None);

        Assert.Equal(before, rights.Snapshot());
        Assert.Equal("Acme", registry.Get(WindowsUserSession.PolicyKey, WindowsUserSession.CaptionValue));
        Assert.False(Session().IsLocked);
    }

    [Fact]
    public async Task Unlocking_twice_or_without_a_lock_changes_nothing()
    {
        rights.Add("S-1-5-32-546", "SeDenyInteractiveLogonRight");
        var before = rights.Snapshot();

        await Session().UnlockAsync(CancellationToken.None);
        await Session().LockAsync(Reason, CancellationToken.None);
        await Session().UnlockAsync(CancellationToken.None);
        await Session().UnlockAsync(CancellationToken.None);

        Assert.Equal(before, rights.Snapshot());
        Assert.Equal("Acme", registry.Get(WindowsUserSession.PolicyKey, WindowsUserSession.CaptionValue));
    }

    [Fact]
    public async Task A_right_removed_by_someone_else_meanwhile_does_not_stop_the_unlock()
    {
        await Session().LockAsync(Reason, CancellationToken.None);
        rights.Rights.Clear();

        await Session().UnlockAsync(CancellationToken.None);

        Assert.False(Session().IsLocked);
    }

    [Fact]
    public async Task A_failed_removal_keeps_the_block_recorded_with_what_is_left()
    {
        await Session().LockAsync(Reason, CancellationToken.None);
        rights.FailingRemovals[(WindowsUserSession.ThisOrganization, "SeDenyInteractiveLogonRight")] = 5;

        await Assert.ThrowsAnyAsync<Exception>(() => Session().UnlockAsync(CancellationToken.None));
        Assert.True(Session().IsLocked);
        Assert.Equal(["S-1-5-15:SeDenyInteractiveLogonRight"], rights.Snapshot());

        rights.FailingRemovals.Clear();
        await Session().UnlockAsync(CancellationToken.None);
        Assert.Empty(rights.Snapshot());
        Assert.Equal("Acme", registry.Get(WindowsUserSession.PolicyKey, WindowsUserSession.CaptionValue));
    }

    [Fact]
    public async Task A_record_the_agent_did_not_write_is_a_lock_nobody_lifts_silently()
    {
        registry.SetString(WindowsBootCounter.AgentKeyPath, WindowsUserSession.BlockValue, "{not json");

        Assert.True(Session().IsLocked);
        await Assert.ThrowsAsync<InvalidOperationException>(() => Session().UnlockAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Each_active_session_is_told_why_and_locked_by_the_helper()
    {
        sessions.Current.AddRange([FakeSessionCalls.Active(1, @"ACME\ann"), FakeSessionCalls.Active(2, @"ACME\bob"), new TerminalSession(3, NativeMethods.WtsConnectState.Disconnected, @"ACME\cy")]);

        await Session().LockAsync(Reason, CancellationToken.None);

        Assert.Equal([1, 2], sessions.Helpers.Select(h => h.Session));
        Assert.All(sessions.Helpers, h => Assert.Equal(["lock"], h.Arguments));
        Assert.Equal([(1, Reason), (2, Reason)], sessions.Messages);
        Assert.Empty(sessions.Disconnected);
    }

    [Fact]
    public async Task A_session_the_helper_could_not_lock_is_disconnected()
    {
        sessions.Current.Add(FakeSessionCalls.Active(1, @"ACME\ann"));
        sessions.HelperExits["lock"] = HelperExit.NotStarted(1314);

        await Session().LockAsync(Reason, CancellationToken.None);

        Assert.Equal([1], sessions.Disconnected);
    }

    [Fact]
    public async Task Caching_credentials_with_nobody_signed_in_asks_nobody()
    {
        var outcome = await Session().CacheCredentialsAsync(@"CONTOSO\ann", CancellationToken.None);

        Assert.Equal(CredentialCaching.NobodySignedIn, outcome);
        Assert.Empty(sessions.Helpers);
    }

    [Fact]
    public async Task Caching_credentials_asks_through_the_helper_in_the_console_session()
    {
        sessions.Current.AddRange([FakeSessionCalls.Active(3, @"ACME\bob"), FakeSessionCalls.Active(1, @"ACME\ann")]);
        sessions.HelperExits["cache-credentials"] = new HelperExit(0, 0);

        var outcome = await Session().CacheCredentialsAsync(@"CONTOSO\ann", CancellationToken.None);

        Assert.Equal(CredentialCaching.Cached, outcome);
        Assert.Equal(1, sessions.Helpers.Single().Session);
        Assert.Equal(["cache-credentials", @"CONTOSO\ann"], sessions.Helpers.Single().Arguments);
    }

    [Theory]
    [InlineData(0, 0, CredentialCaching.Cached)]
    [InlineData(0, 1223, CredentialCaching.Declined)]
    [InlineData(0, null, CredentialCaching.Declined)]
    [InlineData(0, 1326, CredentialCaching.Refused)]
    [InlineData(0, 1311, CredentialCaching.Refused)]
    [InlineData(1008, null, CredentialCaching.NobodySignedIn)]
    [InlineData(1314, null, CredentialCaching.Declined)]
    public void The_helper_end_maps_to_the_caching_outcome(int startError, int? exitCode, CredentialCaching expected)
    {
        Assert.Equal(expected, WindowsUserSession.Caching(new HelperExit(startError, exitCode)));
    }

    [Fact]
    public void One_snooze_wins_and_a_timeout_is_no_answer()
    {
        Assert.Equal(PromptAnswer.Snooze, WindowsUserSession.Answer([NativeMethods.IdYes, NativeMethods.IdNo], snoozeAllowed: true));
        Assert.Equal(PromptAnswer.StartNow, WindowsUserSession.Answer([NativeMethods.IdTimeout, NativeMethods.IdOk], snoozeAllowed: false));
        Assert.Equal(PromptAnswer.NoAnswer, WindowsUserSession.Answer([NativeMethods.IdNo], snoozeAllowed: false));
    }

    [Fact]
    public void The_signed_in_users_are_listed_once_each()
    {
        sessions.Current.AddRange([FakeSessionCalls.Active(1, @"ACME\ann"), new TerminalSession(2, NativeMethods.WtsConnectState.Disconnected, @"acme\ANN"), new TerminalSession(0, NativeMethods.WtsConnectState.Disconnected, null)]);

        Assert.Equal([@"ACME\ann"], Session().LoggedOnUsers);
    }
}
