using Rehome.Protocol;

namespace Rehome.Agent.Platform.Simulated.Areas;

/// <summary>The simulated device's local printers in <c>printers.json</c> (<c>printer:NAME</c>).</summary>
public static class SimulatedPrinters
{
    public const string FileName = "printers.json";

    public static SimulatedAreaFile File(string folder) => new(folder, FileName);

    public static OpenedArea Open(string folder)
    {
        var store = new SimulatedDescriptorStore(File(folder), "printer");
        return new OpenedArea(ReaclArea.Printers, store, store.ItemPaths(), [], null);
    }
}
