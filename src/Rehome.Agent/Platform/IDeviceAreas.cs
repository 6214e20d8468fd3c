using Rehome.Protocol;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform;

/// <summary>
/// The Re-ACL areas of a device: files, registry and the areas beyond them (shares, services, printers, scheduled
/// tasks, local groups, user rights, user hives). A job opens one area at a time, walks it and disposes it.
/// </summary>
public interface IDeviceAreas
{
    /// <summary>
    /// Opens <paramref name="area"/> for a walk (loading what must be loaded, such as the user hives not in use);
    /// throws <see cref="AreaNotSupportedException"/> when this device cannot migrate it, so that the area is
    /// reported as not done rather than silently skipped.
    /// </summary>
    /// <param name="area">The area.</param>
    /// <param name="policy">Where files and registry keys are walked, and what is ignored.</param>
    OpenedArea Open(ReaclArea area, JobPolicy policy);
}

/// <summary>
/// An area opened for a walk: items with security descriptors (a store and where its walk starts), items that name
/// their holders (group members, right holders, run-as accounts), or both (a service has a descriptor and an
/// account). Disposing it releases what opening took (an unloaded hive is unloaded again).
/// </summary>
public sealed class OpenedArea(ReaclArea area, ISecurityStore? store, IReadOnlyList<string> roots, IReadOnlyList<string> ignored,
    IHolderStore? holders, Action? close = null) : IDisposable
{
    private Action? close = close;

    public ReaclArea Area { get; } = area;

    /// <summary>The area's descriptor-holding items; null when it holds none.</summary>
    public ISecurityStore? Store { get; } = store;

    /// <summary>Where the descriptor walk starts (in <see cref="Store"/>'s paths).</summary>
    public IReadOnlyList<string> Roots { get; } = roots;

    /// <summary>Paths (and everything under them) the walk leaves alone.</summary>
    public IReadOnlyList<string> Ignored { get; } = ignored;

    /// <summary>The area's holder items; null when it has none.</summary>
    public IHolderStore? Holders { get; } = holders;

    public void Dispose()
    {
        Interlocked.Exchange(ref close, null)?.Invoke();
    }
}

/// <summary>This device cannot migrate the area (the platform lacks it, or it is not implemented here).</summary>
public sealed class AreaNotSupportedException(ReaclArea area, string reason) : Exception($"{area}: {reason}")
{
    public ReaclArea Area { get; } = area;
}
