using Rehome.Security.Reacl;
using Rehome.Security.Sddl;
using Rehome.Security.Sids;

namespace Rehome.Security.Bench;

/// <summary>
/// The descriptors every measurement uses: file and folder descriptors as a source domain leaves them (owner, group,
/// four to five ACEs, explicit and inherited), and the SID map of its users to a destination domain.
/// </summary>
internal static class Workload
{
    public const int Users = 1000;
    public static readonly SecurityIdentifier Source = SecurityIdentifier.Parse("S-1-5-21-1000-2000-3000");
    public static readonly SecurityIdentifier Destination = SecurityIdentifier.Parse("S-1-5-21-4000-5000-6000");

    public static string User(SecurityIdentifier domain, int index) => domain.WithRid((uint)(1100 + (index % Users))).ToString();

    public static string Sddl(SecurityIdentifier domain, int index)
    {
        var user = User(domain, index);
        var group = domain.WithRid(513).ToString();
        return (index % 3) switch
        {
            0 => $"O:{user}G:{group}D:AI(A;OICI;0x1f01ff;;;{user})(A;OICI;0x1200a9;;;{group})(A;OICI;0x1f01ff;;;BA)(A;OICI;0x1f01ff;;;SY)",
            1 => $"O:BAG:{group}D:AI(D;;0x40000;;;{User(domain, index + 1)})(A;;0x1301bf;;;{user})(A;ID;0x1f01ff;;;BA)(A;ID;0x1f01ff;;;SY)(A;ID;0x1200a9;;;BU)",
            _ => $"O:{user}G:{group}D:AI(A;ID;0x1f01ff;;;{user})(A;ID;0x1200a9;;;{group})(A;ID;0x1f01ff;;;BA)(A;ID;0x1f01ff;;;SY)",
        };
    }

    public static byte[][] Descriptors(int count) =>
        [.. Enumerable.Range(0, count).Select(index => SddlParser.Parse(Sddl(Source, index)).ToBinary())];

    public static SidMap Map()
    {
        var map = new SidMap();
        for (var index = 0; index < Users; index++)
        {
            map.Add(SecurityIdentifier.Parse(User(Source, index)), SecurityIdentifier.Parse(User(Destination, index)));
        }

        map.Add(Source.WithRid(513), Destination.WithRid(513));
        return map;
    }
}
