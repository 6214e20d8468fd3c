using Rehome.Agent.Journal;

namespace Rehome.Agent.Platform.Simulated.Areas;

/// <summary>How a simulated service's or task's account logs on, for what moving it to another account needs.</summary>
public enum SimulatedLogon
{
    /// <summary>No stored password: a built-in account, an S4U or interactive task, a group.</summary>
    NoPassword,

    /// <summary>A (group) managed service account: Windows fetches its password from the domain.</summary>
    Managed,

    /// <summary>A user account whose password Windows stores (a service, a task that runs whether the user is logged on or not).</summary>
    Password,
}

/// <summary>One item of a simulated area (a share, a service, a printer, a scheduled task).</summary>
public sealed record SimulatedAreaItem
{
    /// <summary>The self-relative security descriptor; null when the item has none (an administrative share).</summary>
    public byte[]? Descriptor { get; init; }

    /// <summary>An administrative share (<c>ADMIN$</c>, <c>C$</c>, <c>IPC$</c>).</summary>
    public bool Special { get; init; }

    /// <summary>The SID of the account a service or task runs as; null for items that run as nobody.</summary>
    public string? Account { get; init; }

    public SimulatedLogon Logon { get; init; }
}

/// <summary>
/// One simulated area's items, name → item, in its own JSON file in the device folder (<c>shares.json</c>,
/// <c>services.json</c>…); every change is a read-change-save under one lock, saved durably.
/// </summary>
public sealed class SimulatedAreaFile(string folder, string fileName)
{
    private readonly Lock gate = new();

    public string Path { get; } = System.IO.Path.Combine(folder, fileName);

    /// <summary>Every item, by name (names compared as Windows does, ignoring case); none when the file is missing.</summary>
    public IReadOnlyDictionary<string, SimulatedAreaItem> Read()
    {
        lock (gate)
        {
            return new Dictionary<string, SimulatedAreaItem>(
                DurableFile.ReadJson<Dictionary<string, SimulatedAreaItem>>(Path) ?? [], StringComparer.OrdinalIgnoreCase);
        }
    }

    /// <summary>Replaces the item <paramref name="name"/> by what <paramref name="change"/> makes of it (null: it does not exist).</summary>
    public void Change(string name, Func<SimulatedAreaItem?, SimulatedAreaItem> change)
    {
        lock (gate)
        {
            var items = new Dictionary<string, SimulatedAreaItem>(Read(), StringComparer.OrdinalIgnoreCase);
            var key = items.Keys.FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase)) ?? name;
            items[key] = change(items.GetValueOrDefault(key));
            DurableFile.WriteJson(Path, items);
        }
    }
}
