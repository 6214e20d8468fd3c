using Rehome.Agent.Platform.Windows.Areas;
using Rehome.Security.Sids;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform.Simulated.Areas;

/// <summary>
/// The accounts simulated tasks run as, moved as Windows moves them (<see cref="TaskAccountStore"/>): by
/// <see cref="SimulatedRunAsStore"/>'s rule, a task moved to a built-in or virtual account then logs on as a service
/// (no password), and what a task ran as and how it logged on before a move is remembered (in
/// <c>task-principals.json</c>), so that writing its account back restores both — unless it logged on with a stored
/// password, which Windows could not be given back.
/// </summary>
public sealed class SimulatedTaskAccounts(SimulatedAreaFile file, TaskPrincipalJournal<SimulatedAreaItem> before) : IHolderStore
{
    public const string PrincipalsFileName = "task-principals.json";

    private readonly SimulatedRunAsStore rule = new(file);

    public IEnumerable<string> EnumerateItems() => rule.EnumerateItems();

    public int MaxHolders(string item) => rule.MaxHolders(item);

    public IReadOnlyList<SecurityIdentifier> ReadHolders(string item) => rule.ReadHolders(item);

    public void WriteHolders(string item, IReadOnlyList<SecurityIdentifier> holders)
    {
        ArgumentNullException.ThrowIfNull(holders);
        if (holders.Count != 1 || rule.ReadHolders(item) is not [var current] || current == holders[0])
        {
            rule.WriteHolders(item, holders);
            return;
        }

        var destination = holders[0];
        if (before.Before(item, destination) is { } earlier)
        {
            if (earlier.Logon == SimulatedLogon.Password)
            {
                throw new SecurityStoreException(SecurityStoreErrorKind.Other, item,
                    $"{item}: runs as {current}; moving it back to {destination} {RunAsAccounts.NeedsPassword}.");
            }

            file.Change(item, i => i! with { Account = earlier.Account, Logon = earlier.Logon });
            before.Forget(item, destination);
            return;
        }

        before.Remember(item, current, file.Read()[item] with { Descriptor = null });
        rule.WriteHolders(item, holders);
        if (RunAsAccounts.Classify(destination, null) is RunAsKind.BuiltIn or RunAsKind.Virtual)
        {
            file.Change(item, i => i! with { Logon = SimulatedLogon.NoPassword });
        }
    }
}
