using Rehome.Agent.Platform.Windows.Areas;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform.Simulated.Areas;

/// <summary>
/// A simulated area's descriptors as the Windows area's store presents them (<c>prefix:NAME</c>): an item that is
/// not there is <see cref="SecurityStoreErrorKind.NotFound"/>; administrative shares and items without a descriptor
/// are not listed, as on Windows.
/// </summary>
public sealed class SimulatedDescriptorStore(SimulatedAreaFile file, string prefix) : NamedItemStore(prefix)
{
    protected override IEnumerable<string> ListNames() =>
        file.Read().Where(i => !i.Value.Special && i.Value.Descriptor is not null).Select(i => i.Key);

    protected override byte[] Read(string name, string path) =>
        Item(name, path).Descriptor ?? throw new SecurityStoreException(SecurityStoreErrorKind.Other, path, $"{path}: the item has no security descriptor.");

    protected override void Write(string name, string path, byte[] descriptor)
    {
        _ = Item(name, path);
        file.Change(name, item => item! with { Descriptor = descriptor });
    }

    private SimulatedAreaItem Item(string name, string path) =>
        file.Read().TryGetValue(name, out var item)
            ? item
            : throw new SecurityStoreException(SecurityStoreErrorKind.NotFound, path, $"{path}: no such item.");
}
