using Rehome.Protocol;

namespace Rehome.Agent.Platform.Simulated.Areas;

/// <summary>
/// The simulated device's services in <c>services.json</c>: each one's descriptor (<c>service:NAME</c>) and the
/// account it runs as (the service's name is the holder item).
/// </summary>
public static class SimulatedServices
{
    public const string FileName = "services.json";

    public static SimulatedAreaFile File(string folder) => new(folder, FileName);

    public static OpenedArea Open(string folder)
    {
        var file = File(folder);
        var store = new SimulatedDescriptorStore(file, "service");
        return new OpenedArea(ReaclArea.Services, store, store.ItemPaths(), [], new SimulatedRunAsStore(file));
    }
}
