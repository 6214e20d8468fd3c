using Rehome.Protocol;
using Rehome.Security.Sids;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform.Windows.Areas;

/// <summary>TASK_LOGON_TYPE: how a task's principal logs on.</summary>
internal enum TaskLogonType
{
    None = 0,
    Password = 1,
    S4U = 2,
    InteractiveToken = 3,
    Group = 4,
    ServiceAccount = 5,
    InteractiveTokenOrPassword = 6,
}

/// <summary>A task's principal (IPrincipal): a user, or a group for <see cref="TaskLogonType.Group"/>.</summary>
internal sealed record TaskPrincipal(string? UserId, string? GroupId, TaskLogonType LogonType);

/// <summary>
/// The native seam of the scheduled tasks area: the Task Scheduler's COM interface (ITaskService), every call
/// answering with its HRESULT (0 is success). Descriptors travel as bytes; the seam converts the SDDL the Task
/// Scheduler speaks with Windows' own converters, so the bytes read are the bytes written back.
/// </summary>
internal interface ITaskCalls
{
    /// <summary>Every registered task's path (<c>\Folder\Name</c>), hidden ones included, in every folder.</summary>
    int List(out IReadOnlyList<string> paths);

    /// <summary>IRegisteredTask.GetSecurityDescriptor(owner, group, DACL), as a self-relative descriptor.</summary>
    int GetDescriptor(string path, out byte[]? descriptor);

    /// <summary>IRegisteredTask.SetSecurityDescriptor(TASK_DONT_ADD_PRINCIPAL_ACE).</summary>
    int SetDescriptor(string path, byte[] descriptor);

    /// <summary>IRegisteredTask.Definition.Principal.</summary>
    int GetPrincipal(string path, out TaskPrincipal? principal);

    /// <summary>Registers the task's definition again (TASK_UPDATE) with <paramref name="principal"/> and no password.</summary>
    int SetPrincipal(string path, TaskPrincipal principal);
}

/// <summary>The security descriptors of scheduled tasks (<c>task:\Folder\Name</c>): who may see, run and change each task.</summary>
internal sealed class TaskSecurityStore(ITaskCalls calls, IWin32Errors errors) : NamedItemStore("task")
{
    protected override IEnumerable<string> ListNames()
    {
        AreaErrors.Check(errors, calls.List(out var paths), Root, "ITaskFolder.GetTasks");
        return paths;
    }

    protected override byte[] Read(string name, string path)
    {
        AreaErrors.Check(errors, calls.GetDescriptor(name, out var descriptor), path, "IRegisteredTask.GetSecurityDescriptor");
        return descriptor ?? throw new SecurityStoreException(SecurityStoreErrorKind.Other, path, $"{path}: the task has no security descriptor.");
    }

    protected override void Write(string name, string path, byte[] descriptor) =>
        AreaErrors.Check(errors, calls.SetDescriptor(name, descriptor), path, "IRegisteredTask.SetSecurityDescriptor");
}

/// <summary>
/// The account each scheduled task runs as (its principal's user, or group for a group task), one holder per task
/// (the task's path is the item). Writing follows <see cref="RunAsAccounts"/>: a task that runs "whether the user is
/// logged on or not" with a stored password is left as it is and reported unless its new account needs no password;
/// S4U, interactive and group tasks move, keeping how they log on; a built-in account runs as a service account, a
/// managed service account logs on with the password Windows fetches from the domain. The principal a task had
/// before a move is remembered (<see cref="TaskPrincipalJournal{TPrincipal}"/>), so that writing its account back
/// (a revert) restores it exactly.
/// </summary>
internal sealed class TaskAccountStore(ITaskCalls calls, IAccountNames names, IWin32Errors errors, TaskPrincipalJournal<TaskPrincipal> before) : IHolderStore
{
    public IEnumerable<string> EnumerateItems()
    {
        AreaErrors.Check(errors, calls.List(out var paths), "task:", "ITaskFolder.GetTasks");
        return paths.Order(StringComparer.OrdinalIgnoreCase);
    }

    public int MaxHolders(string item) => 1;

    public IReadOnlyList<SecurityIdentifier> ReadHolders(string item)
    {
        var principal = Principal(item);
        return Account(principal) is { } account ? [SidOf(item, account)] : [];
    }

    public void WriteHolders(string item, IReadOnlyList<SecurityIdentifier> holders)
    {
        ArgumentNullException.ThrowIfNull(holders);
        if (holders.Count != 1)
        {
            throw new SecurityStoreException(SecurityStoreErrorKind.Other, item, $"{item}: a task runs as exactly one account, not {holders.Count}.");
        }

        var principal = Principal(item);
        var account = Account(principal);
        var current = account is null ? null : SidOf(item, account);
        var destination = holders[0];
        if (current == destination)
        {
            return;
        }

        if (before.Before(item, destination) is { } earlier)
        {
            Restore(item, account, destination, earlier);
            return;
        }

        var name = AccountLookup.Name(names, errors, item, destination);
        var kind = RunAsAccounts.Classify(destination, name);
        if (RunAsAccounts.Refusal(kind, StoresPassword(principal)) is { } refusal)
        {
            throw new SecurityStoreException(SecurityStoreErrorKind.Other, item, $"{item}: runs as {account}; moving it to {name} {refusal}.");
        }

        // Before the task changes: how it logged on is what a revert must give back.
        if (current is not null)
        {
            before.Remember(item, current, principal);
        }

        AreaErrors.Check(errors, calls.SetPrincipal(item, Moved(principal, name, kind)), item, "ITaskFolder.RegisterTaskDefinition");
    }

    /// <summary>
    /// Gives <paramref name="item"/> back the principal it had as <paramref name="destination"/>, verbatim (its user or
    /// group text, how it logged on) — unless that principal logged on with a stored password, which re-registering
    /// cannot give back.
    /// </summary>
    private void Restore(string item, string? account, SecurityIdentifier destination, TaskPrincipal earlier)
    {
        if (StoresPassword(earlier))
        {
            throw new SecurityStoreException(SecurityStoreErrorKind.Other, item,
                $"{item}: runs as {account}; moving it back to {Account(earlier)} {RunAsAccounts.NeedsPassword}.");
        }

        AreaErrors.Check(errors, calls.SetPrincipal(item, earlier), item, "ITaskFolder.RegisterTaskDefinition");
        before.Forget(item, destination);
    }

    private static bool StoresPassword(TaskPrincipal principal) =>
        principal.LogonType is TaskLogonType.Password or TaskLogonType.InteractiveTokenOrPassword;

    /// <summary><paramref name="principal"/> moved to <paramref name="account"/> of <paramref name="kind"/>.</summary>
    internal static TaskPrincipal Moved(TaskPrincipal principal, string account, RunAsKind kind) =>
        principal.LogonType == TaskLogonType.Group
            ? principal with { GroupId = account }
            : principal with
            {
                UserId = account,
                LogonType = kind switch
                {
                    RunAsKind.BuiltIn or RunAsKind.Virtual => TaskLogonType.ServiceAccount,
                    RunAsKind.Managed => TaskLogonType.Password,
                    _ => principal.LogonType,
                },
            };

    /// <summary>The account a principal names: the group of a group task, its user otherwise (none: the task has no principal).</summary>
    internal static string? Account(TaskPrincipal principal)
    {
        var account = principal.LogonType == TaskLogonType.Group ? principal.GroupId : principal.UserId;
        return string.IsNullOrWhiteSpace(account) ? null : account.Trim();
    }

    private TaskPrincipal Principal(string item)
    {
        AreaErrors.Check(errors, calls.GetPrincipal(item, out var principal), item, "IRegisteredTask.Definition.Principal");
        return principal ?? new TaskPrincipal(null, null, TaskLogonType.None);
    }

    /// <summary>A principal holds a SID (as task XML often does) or an account name.</summary>
    private SecurityIdentifier SidOf(string item, string account)
    {
        if (account.StartsWith("S-1-", StringComparison.OrdinalIgnoreCase) && SecurityIdentifier.TryParse(account, out var parsed) && parsed is not null)
        {
            return parsed;
        }

        return AccountLookup.Sid(names, errors, item, account);
    }

    /// <summary>
    /// The scheduled tasks area: every task's descriptor and run-as account; <c>principals</c> is the file of the
    /// principals tasks had before the agent moved them (<see cref="TaskPrincipalJournal{TPrincipal}"/>).
    /// </summary>
    public static OpenedArea Open(ITaskCalls calls, IAccountNames names, IWin32Errors errors, string principals)
    {
        var store = new TaskSecurityStore(calls, errors);
        return new OpenedArea(ReaclArea.ScheduledTasks, store, store.ItemPaths(), [], new TaskAccountStore(calls, names, errors, new(principals)));
    }
}
