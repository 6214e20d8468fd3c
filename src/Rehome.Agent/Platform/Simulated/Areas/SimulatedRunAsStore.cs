using Rehome.Agent.Platform.Windows.Areas;
using Rehome.Security.Sids;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform.Simulated.Areas;

/// <summary>
/// The accounts simulated services or tasks run as, one holder per item, moved by Windows' rule
/// (<see cref="RunAsAccounts"/>): an item whose account logs on with a stored password moves only to a built-in or
/// virtual account; a managed service account moves to the destination's managed account (the simulated device
/// knows no names, so the destination of a managed account is taken to be managed too).
/// </summary>
public sealed class SimulatedRunAsStore(SimulatedAreaFile file) : IHolderStore
{
    public IEnumerable<string> EnumerateItems() =>
        file.Read().Where(i => i.Value.Account is not null).Select(i => i.Key).Order(StringComparer.OrdinalIgnoreCase);

    public int MaxHolders(string item) => 1;

    public IReadOnlyList<SecurityIdentifier> ReadHolders(string item) => [SecurityIdentifier.Parse(Item(item).Account!)];

    public void WriteHolders(string item, IReadOnlyList<SecurityIdentifier> holders)
    {
        ArgumentNullException.ThrowIfNull(holders);
        if (holders.Count != 1)
        {
            throw new SecurityStoreException(SecurityStoreErrorKind.Other, item, $"{item}: runs as exactly one account, not {holders.Count}.");
        }

        var current = Item(item);
        var destination = holders[0].ToString();
        if (string.Equals(current.Account, destination, StringComparison.Ordinal))
        {
            return;
        }

        var kind = RunAsAccounts.Classify(holders[0], null);
        if (kind == RunAsKind.User && current.Logon == SimulatedLogon.Managed)
        {
            kind = RunAsKind.Managed;
        }

        if (RunAsAccounts.Refusal(kind, current.Logon == SimulatedLogon.Password) is { } refusal)
        {
            throw new SecurityStoreException(SecurityStoreErrorKind.Other, item, $"{item}: runs as {current.Account}; moving it to {destination} {refusal}.");
        }

        file.Change(item, i => i! with { Account = destination });
    }

    private SimulatedAreaItem Item(string item) =>
        file.Read().TryGetValue(item, out var found) && found.Account is not null
            ? found
            : throw new SecurityStoreException(SecurityStoreErrorKind.NotFound, item, $"{item}: no such item.");
}
