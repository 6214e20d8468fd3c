using Rehome.Protocol;

namespace Rehome.Agent.Platform.Simulated.Areas;

/// <summary>
/// The simulated device's scheduled tasks in <c>tasks.json</c>, by path (<c>\Folder\Name</c>): each one's
/// descriptor (<c>task:\Folder\Name</c>) and principal (the task's path is the holder item).
/// </summary>
public static class SimulatedTasks
{
    public const string FileName = "tasks.json";

    public static SimulatedAreaFile File(string folder) => new(folder, FileName);

    public static OpenedArea Open(string folder)
    {
        var file = File(folder);
        var store = new SimulatedDescriptorStore(file, "task");
        return new OpenedArea(ReaclArea.ScheduledTasks, store, store.ItemPaths(), [], new SimulatedTaskAccounts(file, new(Path.Combine(folder, SimulatedTaskAccounts.PrincipalsFileName))));
    }
}
