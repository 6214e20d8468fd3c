using Rehome.Protocol;

namespace Rehome.Agent.Platform.Simulated.Areas;

/// <summary>The simulated device's shares in <c>shares.json</c> (<c>share:NAME</c>); administrative shares carry no descriptor and are not walked.</summary>
public static class SimulatedShares
{
    public const string FileName = "shares.json";

    public static SimulatedAreaFile File(string folder) => new(folder, FileName);

    public static OpenedArea Open(string folder)
    {
        var store = new SimulatedDescriptorStore(File(folder), "share");
        return new OpenedArea(ReaclArea.Shares, store, store.ItemPaths(), [], null);
    }
}
