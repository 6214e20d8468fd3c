using Rehome.Protocol;

namespace Rehome.Agent.Platform.Simulated.Areas;

/// <summary>The simulated device's user rights assignments (LSA account rights): right name → holder SIDs, in <c>rights.json</c>.</summary>
public static class SimulatedUserRights
{
    public const string FileName = "rights.json";

    public static OpenedArea Open(string folder) =>
        new(ReaclArea.UserRights, null, [], [], new SimulatedHolderFile(Path.Combine(folder, FileName)));

    /// <summary>Lays out the rights of a new device: Windows' usual holders, and source-domain users and groups.</summary>
    public static void Seed(string folder, IEnumerable<string> users, IEnumerable<string> groups)
    {
        IEnumerable<string> userList = [.. users], groupList = [.. groups];
        SimulatedHolderFile.Create(Path.Combine(folder, FileName),
        [
            new("SeBackupPrivilege", ["S-1-5-32-544", "S-1-5-32-551"]),
            new("SeBatchLogonRight", ["S-1-5-32-544", "S-1-5-32-551", "S-1-5-32-559", .. groupList]),
            new("SeRemoteInteractiveLogonRight", ["S-1-5-32-544", "S-1-5-32-555", .. userList]),
            new("SeServiceLogonRight", ["S-1-5-80-0", .. userList.Take(1)]),
        ]);
    }
}
