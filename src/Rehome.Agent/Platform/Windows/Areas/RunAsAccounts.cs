using Rehome.Security.Sids;

namespace Rehome.Agent.Platform.Windows.Areas;

/// <summary>What kind of account a service or a scheduled task runs as, for what changing it needs.</summary>
public enum RunAsKind
{
    /// <summary>LocalSystem, LocalService, NetworkService: no password.</summary>
    BuiltIn,

    /// <summary>A virtual account (<c>NT SERVICE\…</c>, an application pool identity): no password.</summary>
    Virtual,

    /// <summary>A (group) managed service account, named <c>…$</c>: Windows fetches its password from the domain.</summary>
    Managed,

    /// <summary>A plain user account: Windows needs its password to log it on.</summary>
    User,
}

/// <summary>
/// The rule for moving a service or scheduled task to its destination account. The account's password is never
/// known to Rehome, so a run-as account changes only where Windows needs no password: built-in, virtual and managed
/// service accounts, and tasks that run without a stored password (S4U, "only when the user is logged on", a group).
/// For a plain user account that logs on with a stored password the item is left running as it does and reported:
/// setting an account whose password Windows does not have would stop the service or task from starting.
/// </summary>
public static class RunAsAccounts
{
    public const string NeedsPassword = "needs the destination account's password: the agent leaves it as it is; set the account and its password by hand";

    private static readonly string[] BuiltIns = ["S-1-5-18", "S-1-5-19", "S-1-5-20"];

    /// <summary>The kind of <paramref name="sid"/>; <paramref name="name"/> (<c>DOMAIN\name</c>) tells managed accounts apart.</summary>
    public static RunAsKind Classify(SecurityIdentifier sid, string? name)
    {
        ArgumentNullException.ThrowIfNull(sid);
        var text = sid.ToString();
        if (BuiltIns.Contains(text, StringComparer.Ordinal))
        {
            return RunAsKind.BuiltIn;
        }

        // NT SERVICE\… (S-1-5-80), IIS APPPOOL\… (S-1-5-82), NT VIRTUAL MACHINE\… (S-1-5-83).
        if (text.StartsWith("S-1-5-80-", StringComparison.Ordinal) || text.StartsWith("S-1-5-82-", StringComparison.Ordinal)
            || text.StartsWith("S-1-5-83-", StringComparison.Ordinal))
        {
            return RunAsKind.Virtual;
        }

        return name is not null && name.EndsWith('$') ? RunAsKind.Managed : RunAsKind.User;
    }

    /// <summary>
    /// Why the item must not be moved to an account of <paramref name="destination"/>'s kind; null when it can.
    /// <paramref name="logsOnWithPassword"/>: the item logs its account on with a stored password (every service
    /// running as a user; a task set to run whether the user is logged on or not).
    /// </summary>
    public static string? Refusal(RunAsKind destination, bool logsOnWithPassword) =>
        destination == RunAsKind.User && logsOnWithPassword ? NeedsPassword : null;
}
