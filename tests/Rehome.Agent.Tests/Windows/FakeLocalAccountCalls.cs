using Rehome.Agent.Platform.Windows;

namespace Rehome.Agent.Tests.Windows;

internal sealed class FakeLocalAccountCalls : ILocalAccountCalls
{
    public const string AdministratorsName = "Administratoren";
    public const string ComputerSid = "S-1-5-21-100-200-300";

    public Dictionary<string, List<string>> Groups { get; } = new() { [AdministratorsName] = ["S-1-5-21-100-200-300-500"] };

    public Dictionary<string, string> Users { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>SIDs Windows cannot resolve (a domain it cannot reach).</summary>
    public HashSet<string> Unresolvable { get; } = [];

    public List<string> Calls { get; } = [];

    /// <summary>The NET_API status NetUserAdd answers (NERR_PasswordTooShort …); 0 creates.</summary>
    public int RefuseNewUsers { get; set; }

    private int nextRid = 1000;

    public int NameOfSid(string sid, out string? name)
    {
        name = sid == WindowsLocalAccounts.AdministratorsSid ? AdministratorsName : null;
        return name is null ? 1332 : 0;
    }

    public int SidOfName(string accountName, out string? sid)
    {
        var user = accountName[(accountName.IndexOf('\\', StringComparison.Ordinal) + 1)..];
        sid = Users.ContainsKey(user) ? SidOf(user) : null;
        return sid is null ? 1332 : 0;
    }

    public int GetGroupMembers(string group, out IReadOnlyList<string> sids)
    {
        sids = Groups.TryGetValue(group, out var members) ? [.. members] : [];
        return Groups.ContainsKey(group) ? 0 : 2220;
    }

    public int AddGroupMember(string group, string sid)
    {
        Calls.Add($"add {group} {sid}");
        if (Unresolvable.Contains(sid))
        {
            return 1387;
        }

        if (Groups[group].Contains(sid))
        {
            return 1378;
        }

        Groups[group].Add(sid);
        return 0;
    }

    public int RemoveGroupMember(string group, string sid)
    {
        Calls.Add($"remove {group} {sid}");
        return Groups[group].Remove(sid) ? 0 : 1377;
    }

    public int FindUser(string userName) => Users.ContainsKey(userName) ? 0 : 2221;

    public int AddUser(string userName, string password, string comment)
    {
        Calls.Add($"NetUserAdd {userName}");
        if (RefuseNewUsers != 0)
        {
            return RefuseNewUsers;
        }

        if (Users.ContainsKey(userName))
        {
            return 2224;
        }

        Users[userName] = password;
        Rids[userName] = nextRid++;
        return 0;
    }

    public int SetPassword(string userName, string password)
    {
        Calls.Add($"NetUserSetInfo {userName}");
        if (!Users.ContainsKey(userName))
        {
            return 2221;
        }

        Users[userName] = password;
        return 0;
    }

    public int DeleteUser(string userName)
    {
        Calls.Add($"NetUserDel {userName}");
        return Users.Remove(userName) ? 0 : 2221;
    }

    public Dictionary<string, int> Rids { get; } = new(StringComparer.OrdinalIgnoreCase);

    public string SidOf(string user) => $"{ComputerSid}-{Rids.GetValueOrDefault(user, 999)}";
}
