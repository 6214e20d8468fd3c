using System.Runtime.Versioning;
using Microsoft.Extensions.Logging.Abstractions;
using Rehome.Agent.Jobs;
using Rehome.Protocol;

namespace Rehome.Agent.Platform.Windows;

/// <summary>
/// The local Administrators group (by its localised name, from its well-known SID) and the break-glass account.
/// An account is the job's only when the agent's key records it (<c>HKLM\SOFTWARE\Rehome\Agent</c>,
/// <c>BreakGlassAccounts</c>), written before the account is created, so a crash between the two never leaves an
/// account the agent would not recognise as its own; an account of that name that existed before is never
/// touched. The password the server sends is handed to Windows and nowhere else: not logged, not kept.
/// </summary>
[SupportedOSPlatform("windows")]
public sealed class WindowsLocalAccounts : ILocalAccounts
{
    internal const string AdministratorsSid = "S-1-5-32-544";
    internal const string OwnedAccountsValue = "BreakGlassAccounts";
    private const string Comment = "Break-glass administrator created by Rehome for a device migration; removed when it is done.";

    private static readonly char[] InvalidNameCharacters = ['"', '/', '\\', '[', ']', ':', ';', '|', '=', ',', '+', '*', '?', '<', '>'];

    private readonly ILocalAccountCalls calls;
    private readonly IRegistryValues registry;
    private readonly ILogger logger;

    public WindowsLocalAccounts(ILogger? logger = null)
        : this(new NativeLocalAccountCalls(), new NativeRegistryValues(), logger)
    {
    }

    // errors: where the texts of Windows' error codes come from (netmsg.dll and the system table on Windows).
    internal WindowsLocalAccounts(ILocalAccountCalls calls, IRegistryValues registry, ILogger? logger = null, IWin32Errors? errors = null)
    {
        this.calls = calls;
        this.registry = registry;
        this.logger = logger ?? NullLogger.Instance;
        this.errors = errors ?? NativeWin32Errors.Instance;
    }

    private readonly IWin32Errors errors;

    /// <summary>A refusal of Windows as an exception naming the call, its code and its text (through the seam).</summary>
    private System.ComponentModel.Win32Exception Failure(int status, string call) => new(status, WindowsErrors.Describe(errors, status, call));

    public Task<IReadOnlyList<string>> GetAdministratorsAsync(CancellationToken ct)
    {
        var group = AdministratorsGroup();
        NativeMethods.Check(calls.GetGroupMembers(group, out var members), $"NetLocalGroupGetMembers({group})");
        return Task.FromResult(members);
    }

    public Task<MemberChange> AddAdministratorAsync(string sid, CancellationToken ct) =>
        Task.FromResult(Change(AdministratorsGroup(), sid, add: true));

    public Task<MemberChange> RemoveAdministratorAsync(string sid, CancellationToken ct) =>
        Task.FromResult(Change(AdministratorsGroup(), sid, add: false));

    public Task<bool> CreateBreakGlassAsync(BreakGlassAccount account, CancellationToken ct)
    {
        var name = account.UserName;
        if (!IsValidUserName(name))
        {
            throw new StepFailedException("BadBreakGlassName", $"\"{name}\" cannot be a local account name (1 to 20 characters, none of \" / \\ [ ] : ; | = , + * ? < >).");
        }

        var ours = IsOurs(name);
        var found = calls.FindUser(name);
        if (found is not (NativeMethods.Success or NativeMethods.NerrUserNotFound))
        {
            throw Failure(found, $"NetUserGetInfo({name})");
        }

        if (found == NativeMethods.Success && !ours)
        {
            logger.LogWarning("A local account {UserName} existed before Rehome; it is left as it was", name);
            return Task.FromResult(false);
        }

        if (found == NativeMethods.Success)
        {
            NativeMethods.Check(calls.SetPassword(name, account.Password), $"NetUserSetInfo({name}, 1003)");
            logger.LogInformation("Break-glass account {UserName} was created by Rehome before; its password is reset", name);
        }
        else
        {
            Record(name, owned: true);
            var added = calls.AddUser(name, account.Password, Comment);
            if (added == NativeMethods.NerrUserExists)
            {
                // Somebody created it between the check and now: it is not ours.
                Record(name, owned: false);
                logger.LogWarning("A local account {UserName} appeared while Rehome created it; it is left as it was", name);
                return Task.FromResult(false);
            }

            if (added != NativeMethods.Success)
            {
                // No account: nothing may later be taken for ours under this name (an account an administrator makes).
                Record(name, owned: false);
                throw Failure(added, $"NetUserAdd({name})");
            }

            logger.LogInformation("Break-glass account {UserName} created", name);
        }

        NativeMethods.Check(calls.SidOfName($@"{Environment.MachineName}\{name}", out var sid), $"LookupAccountName({name})");
        // The sign-in block denies only domain and Entra ID accounts (WindowsUserSession), so this local account
        // stays in Users and signs in whatever the block.
        var change = Change(AdministratorsGroup(), sid!, add: true);
        if (change == MemberChange.NotResolvable)
        {
            throw new InvalidOperationException($"Windows cannot resolve the account it just created ({name}).");
        }

        return Task.FromResult(true);
    }

    public Task RemoveBreakGlassAsync(string userName, CancellationToken ct)
    {
        if (!IsOurs(userName))
        {
            logger.LogWarning("Local account {UserName} is not one Rehome created; it is not removed", userName);
            return Task.CompletedTask;
        }

        var status = calls.DeleteUser(userName);
        if (status is not (NativeMethods.Success or NativeMethods.NerrUserNotFound))
        {
            throw Failure(status, $"NetUserDel({userName})");
        }

        Record(userName, owned: false);
        logger.LogInformation("Break-glass account {UserName} removed", userName);
        return Task.CompletedTask;
    }

    /// <summary>The names recorded as created by Rehome; anything unreadable counts as none.</summary>
    internal static IReadOnlyList<string> OwnedAccounts(object? value) =>
        value is string text ? [.. text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] : [];

    /// <summary>A name NetUserAdd accepts (and the record, which separates names with ';', can hold).</summary>
    internal static bool IsValidUserName(string name) =>
        name.Length is > 0 and <= 20 && name.Trim() == name && !name.EndsWith('.') && name.IndexOfAny(InvalidNameCharacters) < 0 && !name.Any(char.IsControl);

    /// <summary>What a member change answered, as the jobs see it: already so and unresolvable are outcomes, not errors.</summary>
    internal static MemberChange? Outcome(int status, bool add) => status switch
    {
        NativeMethods.Success => MemberChange.Done,
        NativeMethods.ErrorMemberInAlias when add => MemberChange.AlreadySo,
        NativeMethods.ErrorMemberNotInAlias when !add => MemberChange.AlreadySo,
        NativeMethods.ErrorNoSuchMember => MemberChange.NotResolvable,
        _ => null,
    };

    private MemberChange Change(string group, string sid, bool add)
    {
        var status = add ? calls.AddGroupMember(group, sid) : calls.RemoveGroupMember(group, sid);
        var outcome = Outcome(status, add) ?? throw Failure(status, $"{(add ? "NetLocalGroupAddMembers" : "NetLocalGroupDelMembers")}({group}, {sid})");
        logger.LogInformation("{Change} {Sid} in {Group}: {Outcome}", add ? "Adding" : "Removing", sid, group, outcome);
        return outcome;
    }

    /// <summary>The local name of BUILTIN\Administrators (localised: "Administratoren", "Administrateurs" …).</summary>
    private string AdministratorsGroup()
    {
        NativeMethods.Check(calls.NameOfSid(AdministratorsSid, out var name), $"LookupAccountSid({AdministratorsSid})");
        return string.IsNullOrEmpty(name) ? throw new InvalidOperationException($"Windows has no name for {AdministratorsSid}.") : name;
    }

    private bool IsOurs(string userName) =>
        OwnedAccounts(registry.Get(WindowsBootCounter.AgentKeyPath, OwnedAccountsValue)).Contains(userName, StringComparer.OrdinalIgnoreCase);

    private void Record(string userName, bool owned)
    {
        var others = OwnedAccounts(registry.Get(WindowsBootCounter.AgentKeyPath, OwnedAccountsValue))
            .Where(n => !n.Equals(userName, StringComparison.OrdinalIgnoreCase));
        var names = owned ? [.. others, userName] : others.ToList();
        if (names.Count == 0)
        {
            registry.Delete(WindowsBootCounter.AgentKeyPath, OwnedAccountsValue);
        }
        else
        {
            registry.SetString(WindowsBootCounter.AgentKeyPath, OwnedAccountsValue, string.Join(';', names));
        }
    }
}
