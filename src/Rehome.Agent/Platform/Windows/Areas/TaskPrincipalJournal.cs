using Rehome.Agent.Journal;
using Rehome.Security.Sids;

namespace Rehome.Agent.Platform.Windows.Areas;

/// <summary>
/// The principals scheduled tasks had before the agent moved them to another account, by task path and the SID
/// the task ran as, in one durable file of the agent's protected folder. Moving a task's account can change how it
/// logs on (a managed account logs on with a password Windows fetches, a built-in one as a service account) and
/// the holder journal keeps only SIDs: writing a remembered SID back (a revert) restores the principal verbatim.
/// </summary>
/// <typeparam name="TPrincipal">The principal as the device knows it.</typeparam>
public sealed class TaskPrincipalJournal<TPrincipal>(string path)
    where TPrincipal : class
{
    private readonly Lock gate = new();

    public string Path { get; } = path;

    /// <summary>The principal <paramref name="task"/> had when it ran as <paramref name="account"/>; null when none is remembered.</summary>
    public TPrincipal? Before(string task, SecurityIdentifier account)
    {
        ArgumentNullException.ThrowIfNull(account);
        lock (gate)
        {
            return Read().TryGetValue(task, out var byAccount) && byAccount.TryGetValue(account.ToString(), out var principal) ? principal : null;
        }
    }

    /// <summary>Remembers, durably and before the task changes, that <paramref name="task"/> ran as <paramref name="account"/> with <paramref name="principal"/>.</summary>
    public void Remember(string task, SecurityIdentifier account, TPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(account);
        Change(task, byAccount => byAccount[account.ToString()] = principal);
    }

    /// <summary>Forgets the principal <paramref name="task"/> had as <paramref name="account"/> (it has it again).</summary>
    public void Forget(string task, SecurityIdentifier account)
    {
        ArgumentNullException.ThrowIfNull(account);
        Change(task, byAccount => byAccount.Remove(account.ToString()));
    }

    private void Change(string task, Action<Dictionary<string, TPrincipal>> change)
    {
        lock (gate)
        {
            var tasks = Read();
            var byAccount = tasks.TryGetValue(task, out var found) ? new Dictionary<string, TPrincipal>(found, StringComparer.Ordinal) : new(StringComparer.Ordinal);
            change(byAccount);
            if (byAccount.Count == 0)
            {
                tasks.Remove(task);
            }
            else
            {
                tasks[task] = byAccount;
            }

            // Nothing left to give back: no file, so a reverted device is as it was before the first move.
            if (tasks.Count == 0)
            {
                File.Delete(Path);
            }
            else
            {
                DurableFile.WriteJson(Path, tasks);
            }
        }
    }

    private Dictionary<string, Dictionary<string, TPrincipal>> Read() =>
        new(DurableFile.ReadJson<Dictionary<string, Dictionary<string, TPrincipal>>>(Path) ?? [], StringComparer.OrdinalIgnoreCase);
}
