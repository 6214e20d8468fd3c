using Rehome.Security.Sids;

namespace Rehome.Security.Stores;

/// <summary>
/// Items that name the accounts holding them rather than carrying a security descriptor: a local group's members,
/// a user right's holders (LSA account rights), the account a service or a scheduled task runs as. Item errors
/// are <see cref="SecurityStoreException"/>s.
/// </summary>
public interface IHolderStore
{
    /// <summary>Every item (group names, right names, service names), in a stable order.</summary>
    IEnumerable<string> EnumerateItems();

    /// <summary>The accounts that hold the item now.</summary>
    IReadOnlyList<SecurityIdentifier> ReadHolders(string item);

    /// <summary>How many holders the item can have: 1 for a service's or task's account, unbounded for a group.</summary>
    int MaxHolders(string item);

    /// <summary>Makes <paramref name="holders"/> exactly the item's holders (adding and removing what differs).</summary>
    void WriteHolders(string item, IReadOnlyList<SecurityIdentifier> holders);
}
