using System.Globalization;
using Rehome.Security.Sids;

namespace Rehome.Server.Directories;

/// <summary>
/// The simulated source and destination domains' identities, by arithmetic so that the server's simulated
/// directory and the simulated devices agree without sharing state: user <c>userN</c> has RID 10000+N and group
/// <c>groupN</c> RID 50000+N in both domains; Domain Users is 513.
/// </summary>
public static class SimulatedIdentities
{
    public const string SourceNetBiosName = "CONTOSO";
    public const string SourceDnsName = "contoso.example";
    public const string DestinationNetBiosName = "FABRIKAM";
    public const string DestinationDnsName = "fabrikam.example";

    public static SecurityIdentifier SourceDomain { get; } = SecurityIdentifier.Parse("S-1-5-21-1004336348-1177238915-682003330");

    public static SecurityIdentifier DestinationDomain { get; } = SecurityIdentifier.Parse("S-1-5-21-2100000001-2100000002-2100000003");

    private const uint UserBase = 10_000;
    private const uint GroupBase = 50_000;
    private const uint DomainUsers = 513;

    public static SecurityIdentifier User(SecurityIdentifier domain, int number) => Sid(domain, UserBase + (uint)number);

    public static SecurityIdentifier Group(SecurityIdentifier domain, int number) => Sid(domain, GroupBase + (uint)number);

    public static SecurityIdentifier DomainUsersOf(SecurityIdentifier domain) => Sid(domain, DomainUsers);

    /// <summary>The user number in a name like <c>CONTOSO\user00042</c> or <c>user00042@fabrikam.example</c>.</summary>
    public static int? UserNumber(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return null;
        }
        var account = name.Contains('\\', StringComparison.Ordinal) ? name[(name.IndexOf('\\', StringComparison.Ordinal) + 1)..] : name;
        account = account.Split('@')[0];
        return account.StartsWith("user", StringComparison.OrdinalIgnoreCase)
            && int.TryParse(account.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number is > 0 and < 40_000
            ? number
            : null;
    }

    /// <summary>The account name and kind of a SID of a simulated domain, or null when the domain has no such account.</summary>
    public static (string Name, bool IsGroup)? Describe(SecurityIdentifier sid, SecurityIdentifier domain)
    {
        var text = sid.ToString();
        var prefix = domain + "-";
        if (!text.StartsWith(prefix, StringComparison.Ordinal) || !uint.TryParse(text.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var rid))
        {
            return null;
        }
        return rid switch
        {
            DomainUsers => ("Domain Users", true),
            > UserBase and < GroupBase => (string.Create(CultureInfo.InvariantCulture, $"user{rid - UserBase:D5}"), false),
            > GroupBase and < GroupBase + 10_000 => (string.Create(CultureInfo.InvariantCulture, $"group{rid - GroupBase:D3}"), true),
            _ => null,
        };
    }

    private static SecurityIdentifier Sid(SecurityIdentifier domain, uint rid) => SecurityIdentifier.Parse(string.Create(CultureInfo.InvariantCulture, $"{domain}-{rid}"));
}
