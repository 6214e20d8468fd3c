using System.Runtime.Versioning;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;

namespace Rehome.Agent.Platform.Windows;

/// <summary>A logon right the sign-in block gave a SID (and takes back at the end).</summary>
internal sealed record DeniedRight(string Sid, string Right);

/// <summary>
/// What the sign-in block changed, kept in <c>HKLM\SOFTWARE\Rehome\Agent\SignInBlock</c> (one value, written whole)
/// before each change, so that lifting it after a crash or a restart takes back exactly that and nothing else.
/// </summary>
/// <param name="Reason">What the users are told.</param>
/// <param name="Added">The rights added; a right the SID held before is not in here, and stays.</param>
/// <param name="PreviousCaption">LegalNoticeCaption before the block; null when there was none.</param>
/// <param name="PreviousText">LegalNoticeText before the block; null when there was none.</param>
internal sealed record SignInBlock(string Reason, IReadOnlyList<DeniedRight> Added, string? PreviousCaption, string? PreviousText);

/// <summary>
/// The users of a Windows device, reached from the agent's service in session 0. Messages go through
/// WTSSendMessage. Locking is two things:
/// <list type="bullet">
/// <item>Sign-in is blocked: SeDenyInteractiveLogonRight and SeDenyRemoteInteractiveLogonRight for every account a
/// domain controller authenticates (S-1-5-15 This Organization, S-1-5-1000 Other Organization, present in the tokens
/// of domain accounts only, whichever domain, so the block holds before and after the rejoin's restart) and for each
/// domain or Entra ID account with a profile on the device (a second line for cached logons). Local accounts (the
/// break-glass account, local administrator accounts) are never denied. BUILTIN\Users cannot be the target: it holds
/// INTERACTIVE and Authenticated Users, so every token carries it, the break-glass account's too. A legal notice
/// (LegalNoticeCaption/Text) says why at the sign-in screen. All of it is recorded (<see cref="SignInBlock"/>)
/// before it is done, so <see cref="UnlockAsync"/> undoes exactly it, after a restart or a crash too.</item>
/// <item>The signed-in sessions are locked: a service cannot lock another session's workstation, so the agent
/// starts itself in each active session as its user (<see cref="SessionHelper"/>, LockWorkStation); where that
/// fails the session is disconnected (WTSDisconnectSession), which also leaves only the sign-in screen.</item>
/// </list>
/// </summary>
[SupportedOSPlatform("windows")]
public sealed partial class WindowsUserSession : IUserSession
{
    internal const string BlockValue = "SignInBlock";
    internal const string PolicyKey = @"SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System";
    internal const string CaptionValue = "LegalNoticeCaption";
    internal const string TextValue = "LegalNoticeText";
    internal const string ProfileListKey = @"SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList";
    internal const string ThisOrganization = "S-1-5-15";
    internal const string OtherOrganization = "S-1-5-1000";
    internal const string NoticeCaption = "This device is being moved to a new organisation";

    internal static readonly TimeSpan LockHelperTimeout = TimeSpan.FromSeconds(30);
    internal static readonly TimeSpan CredentialPromptTimeout = TimeSpan.FromMinutes(5);
    internal static readonly IReadOnlyList<string> DeniedRights = ["SeDenyInteractiveLogonRight", "SeDenyRemoteInteractiveLogonRight"];

    private const string Title = "Rehome";
    private const int ErrorNoToken = 1008;

    private readonly ISessionCalls sessions;
    private readonly ILogonRights rights;
    private readonly IRegistryValues registry;
    private readonly ILogger logger;

    public WindowsUserSession(ILogger? logger = null)
        : this(new NativeSessionCalls(), new NativeLogonRights(), new NativeRegistryValues(), logger)
    {
    }

    internal WindowsUserSession(ISessionCalls sessions, ILogonRights rights, IRegistryValues registry, ILogger? logger = null)
    {
        this.sessions = sessions;
        this.rights = rights;
        this.registry = registry;
        this.logger = logger ?? NullLogger.Instance;
    }

    public IReadOnlyList<string> LoggedOnUsers =>
        [.. sessions.Sessions().Select(s => s.User).OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase)];

    /// <summary>Whether a block is recorded; a record nobody can read counts as a block (only an unlock may lift it).</summary>
    public bool IsLocked => registry.Get(WindowsBootCounter.AgentKeyPath, BlockValue) is not null;

    public Task NotifyAsync(string message, CancellationToken ct)
    {
        foreach (var session in ActiveSessions())
        {
            // Not waiting: the notice stays on screen until the user closes it; the job goes on.
            Send(session.Id, message, NativeMethods.MessageBoxOk, timeoutSeconds: 0, wait: false);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Asks every active session at once and waits for all of them (each at most <paramref name="timeout"/>). One
    /// snooze wins over a start now: someone at the device is not ready. No session, or no answer: NoAnswer.
    /// </summary>
    public async Task<PromptAnswer> AskToStartAsync(string message, bool snoozeAllowed, TimeSpan timeout, CancellationToken ct)
    {
        var active = ActiveSessions();
        if (active.Count == 0)
        {
            return PromptAnswer.NoAnswer;
        }

        var text = snoozeAllowed ? $"{message}\n\nYes: start now.\nNo: remind me later." : message;
        var style = snoozeAllowed ? NativeMethods.MessageBoxYesNo : NativeMethods.MessageBoxOk;
        var seconds = (int)Math.Clamp(Math.Ceiling(timeout.TotalSeconds), 1, int.MaxValue);
        // WTSSendMessage blocks until the answer; cancelling stops waiting, the message box stays until it times out.
        var asked = active.Select(session => Task.Run(() => Send(session.Id, text, style, seconds, wait: true), ct));
        var responses = await Task.WhenAll(asked).WaitAsync(ct);
        var answer = Answer(responses, snoozeAllowed);
        logger.LogInformation("Asked {Sessions} session(s) to start; the answer is {Answer}", active.Count, answer);
        return answer;
    }

    public async Task LockAsync(string reason, CancellationToken ct)
    {
        BlockSignIn(reason);
        foreach (var session in ActiveSessions())
        {
            // Telling why is worth a try; locking does not depend on it.
            var told = sessions.SendMessage(session.Id, Title, reason, MessageStyle(NativeMethods.MessageBoxOk), 0, false, out _);
            if (told != NativeMethods.Success)
            {
                logger.LogWarning("Could not tell session {SessionId} why it is locked: WTSSendMessage failed with error {Error}", session.Id, told);
            }

            var helper = await sessions.RunHelperAsync(session.Id, [SessionHelper.LockCommand], LockHelperTimeout, ct);
            if (helper is { StartError: 0, ExitCode: 0 })
            {
                logger.LogInformation("Locked session {SessionId} of {User}", session.Id, session.User);
                continue;
            }

            logger.LogWarning(
                "The lock helper did not lock session {SessionId} of {User} (start error {StartError}, exit code {ExitCode}); disconnecting it",
                session.Id, session.User, helper.StartError, helper.ExitCode);
            NativeMethods.Check(sessions.Disconnect(session.Id), $"WTSDisconnectSession({session.Id})");
        }
    }

    /// <summary>Takes back every right the block added and puts the previous notice back, then forgets the block.</summary>
    public Task UnlockAsync(CancellationToken ct)
    {
        if (ReadBlock() is not { } block)
        {
            return Task.CompletedTask;
        }

        var remaining = new List<DeniedRight>();
        var firstFailure = NativeMethods.Success;
        foreach (var denied in block.Added)
        {
            var status = rights.Remove(denied.Sid, denied.Right);
            if (status is not (NativeMethods.Success or NativeMethods.ErrorFileNotFound))
            {
                logger.LogError("LsaRemoveAccountRights({Sid}, {Right}) failed with error {Status}", denied.Sid, denied.Right, status);
                firstFailure = firstFailure == NativeMethods.Success ? status : firstFailure;
                remaining.Add(denied);
            }
        }

        if (remaining.Count > 0)
        {
            // Only what is still denied stays recorded, so the next unlock takes back the rest.
            SaveBlock(block with { Added = remaining });
            throw NativeMethods.Failure(firstFailure, $"LsaRemoveAccountRights ({remaining.Count} of {block.Added.Count} right(s))");
        }

        Restore(CaptionValue, block.PreviousCaption);
        Restore(TextValue, block.PreviousText);
        registry.Delete(WindowsBootCounter.AgentKeyPath, BlockValue);
        logger.LogInformation("Sign-in allowed again: {Count} logon right(s) taken back, the previous notice restored", block.Added.Count);
        return Task.CompletedTask;
    }

    public async Task<CredentialCaching> CacheCredentialsAsync(string destinationUser, CancellationToken ct)
    {
        var active = ActiveSessions();
        if (active.Count == 0)
        {
            return CredentialCaching.NobodySignedIn;
        }

        // The console first: that is where someone sits in front of the device.
        var session = active.OrderBy(s => s.Id).First();
        var helper = await sessions.RunHelperAsync(session.Id, [SessionHelper.CacheCredentialsCommand, destinationUser], CredentialPromptTimeout, ct);
        var outcome = Caching(helper);
        if (helper.StartError != NativeMethods.Success && outcome != CredentialCaching.NobodySignedIn)
        {
            logger.LogError("Could not ask {User} in session {SessionId} for the password of {DestinationUser}: starting the helper failed with error {Error}",
                session.User, session.Id, destinationUser, helper.StartError);
        }
        else if (outcome == CredentialCaching.Refused)
        {
            logger.LogWarning("The logon of {DestinationUser} was refused with error {Error}", destinationUser, helper.ExitCode);
        }

        return outcome;
    }

    /// <summary>What the helper's end says about the caching (its exit code is 0 or the Win32 error of the prompt or the logon).</summary>
    internal static CredentialCaching Caching(HelperExit helper) => helper switch
    {
        { StartError: ErrorNoToken } => CredentialCaching.NobodySignedIn,
        { StartError: not 0 } => CredentialCaching.Declined,
        { ExitCode: null or NativeMethods.ErrorCancelled } => CredentialCaching.Declined,
        { ExitCode: 0 } => CredentialCaching.Cached,
        _ => CredentialCaching.Refused,
    };

    /// <summary>One snooze wins over a start now; a start now wins over no answer.</summary>
    internal static PromptAnswer Answer(IReadOnlyList<int> responses, bool snoozeAllowed)
    {
        var answers = responses.Select(response => response switch
        {
            NativeMethods.IdYes or NativeMethods.IdOk => PromptAnswer.StartNow,
            NativeMethods.IdNo when snoozeAllowed => PromptAnswer.Snooze,
            _ => PromptAnswer.NoAnswer,
        }).ToList();
        return answers.Contains(PromptAnswer.Snooze) ? PromptAnswer.Snooze
            : answers.Contains(PromptAnswer.StartNow) ? PromptAnswer.StartNow
            : PromptAnswer.NoAnswer;
    }

    /// <summary>
    /// The SIDs denied sign-in: every account a domain controller authenticated, and the domain and Entra ID
    /// accounts with a profile here (ProfileList names; anything that is not such a SID is ignored). Accounts of
    /// this computer (<paramref name="computerSid"/> prefix) and the well-known service accounts never are.
    /// </summary>
    internal static IReadOnlyList<string> DeniedSids(IEnumerable<string> profileSids, string? computerSid)
    {
        var local = computerSid is null ? null : computerSid + "-";
        var users = profileSids
            .Where(sid => UserSid().IsMatch(sid))
            .Where(sid => local is null ? sid.StartsWith("S-1-12-1-", StringComparison.Ordinal) : !sid.StartsWith(local, StringComparison.OrdinalIgnoreCase))
            .Select(sid => sid.ToUpperInvariant());
        return [.. new[] { ThisOrganization, OtherOrganization }.Concat(users).Distinct(StringComparer.OrdinalIgnoreCase)];
    }

    internal static string NoticeText(string reason) =>
        $"{reason} Signing in is blocked until it is done. If this lasts, contact your IT department.";

    /// <summary>Domain accounts (S-1-5-21-a-b-c-rid) and Entra ID accounts (S-1-12-1-a-b-c-d).</summary>
    [GeneratedRegex(@"^S-1-(5-21(-\d{1,10}){4}|12-1(-\d{1,10}){4})$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex UserSid();

    private void BlockSignIn(string reason)
    {
        // Recorded before the first change: a crash from here on leaves a record that lifts exactly what was done.
        var block = ReadBlock() ?? new SignInBlock(reason, [], Text(registry.Get(PolicyKey, CaptionValue)), Text(registry.Get(PolicyKey, TextValue)));
        block = block with { Reason = reason };
        SaveBlock(block);

        NativeMethods.Check(rights.GetComputerSid(out var computerSid), "LsaQueryInformationPolicy(PolicyAccountDomainInformation)");
        foreach (var sid in DeniedSids(registry.SubkeyNames(ProfileListKey), computerSid))
        {
            NativeMethods.Check(rights.Get(sid, out var held), $"LsaEnumerateAccountRights({sid})");
            foreach (var right in DeniedRights)
            {
                var ours = block.Added.Contains(new DeniedRight(sid, right));
                if (!ours && held.Contains(right, StringComparer.OrdinalIgnoreCase))
                {
                    // Somebody else's: stays when the block is lifted.
                    continue;
                }

                if (!ours)
                {
                    block = block with { Added = [.. block.Added, new DeniedRight(sid, right)] };
                    SaveBlock(block);
                }

                NativeMethods.Check(rights.Add(sid, right), $"LsaAddAccountRights({sid}, {right})");
            }
        }

        registry.SetString(PolicyKey, CaptionValue, NoticeCaption);
        registry.SetString(PolicyKey, TextValue, NoticeText(reason));
        logger.LogInformation("Sign-in blocked for {Count} logon right(s) of domain and Entra ID accounts: {Reason}", block.Added.Count, reason);
    }

    private SignInBlock? ReadBlock()
    {
        var value = registry.Get(WindowsBootCounter.AgentKeyPath, BlockValue);
        if (value is null)
        {
            return null;
        }

        try
        {
            return value is string json ? JsonSerializer.Deserialize<SignInBlock>(json) ?? throw new JsonException("null") : throw new JsonException("not a string");
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException(
                $@"HKLM\{WindowsBootCounter.AgentKeyPath}\{BlockValue} is not a sign-in block the agent wrote ({e.Message}); remove the logon rights it denied by hand (secpol.msc) and delete the value.", e);
        }
    }

    private void SaveBlock(SignInBlock block) =>
        registry.SetString(WindowsBootCounter.AgentKeyPath, BlockValue, JsonSerializer.Serialize(block));

    private void Restore(string name, string? previous)
    {
        if (previous is null)
        {
            registry.Delete(PolicyKey, name);
        }
        else
        {
            registry.SetString(PolicyKey, name, previous);
        }
    }

    /// <summary>A notice value as text (an administrator may have written it with another type).</summary>
    private static string? Text(object? value) => value switch
    {
        null => null,
        string text => text,
        string[] lines => string.Join(Environment.NewLine, lines),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
    };

    private List<TerminalSession> ActiveSessions() => [.. sessions.Sessions().Where(s => s.IsActiveUserSession)];

    private int Send(int sessionId, string message, uint buttons, int timeoutSeconds, bool wait)
    {
        NativeMethods.Check(sessions.SendMessage(sessionId, Title, message, MessageStyle(buttons), timeoutSeconds, wait, out var response), $"WTSSendMessage({sessionId})");
        return response;
    }

    private static uint MessageStyle(uint buttons) =>
        buttons | NativeMethods.MessageBoxIconInformation | NativeMethods.MessageBoxSetForeground | NativeMethods.MessageBoxTopMost;
}
