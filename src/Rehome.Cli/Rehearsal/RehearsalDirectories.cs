using Rehome.Directory;
using Rehome.Directory.ActiveDirectory;
using Rehome.Server.Directories;

namespace Rehome.Cli.Rehearsal;

/// <summary>
/// Who the rehearsal's devices belong to: the users whose profiles and files each device holds, the groups in
/// its ACLs, and the domains' names, either simulated or read from real directories.
/// </summary>
public sealed class RehearsalIdentities
{
    private readonly IReadOnlyList<(string Name, string Sid)> users;
    private readonly (string Name, string Sid) colleague;
    private readonly IReadOnlyList<string> groups;

    private RehearsalIdentities(string sourceDns, string sourceNetBios, string destinationDns, string destinationNetBios,
        IReadOnlyList<(string, string)> users, (string, string) colleague, IReadOnlyList<string> groups)
    {
        SourceDnsName = sourceDns;
        SourceNetBiosName = sourceNetBios;
        DestinationDnsName = destinationDns;
        DestinationNetBiosName = destinationNetBios;
        this.users = users;
        this.colleague = colleague;
        this.groups = groups;
    }

    public string SourceDnsName { get; }

    public string SourceNetBiosName { get; }

    public string DestinationDnsName { get; }

    public string DestinationNetBiosName { get; }

    /// <summary>The simulated Contoso and Fabrikam (<see cref="SimulatedIdentities"/>): a user of its own for every device.</summary>
    public static RehearsalIdentities Simulated { get; } = new(
        SimulatedIdentities.SourceDnsName, SimulatedIdentities.SourceNetBiosName, SimulatedIdentities.DestinationDnsName,
        SimulatedIdentities.DestinationNetBiosName, [], default, []);

    /// <summary>Device i's primary user.</summary>
    public (string Name, string Sid) User(int i) => users.Count == 0
        ? (RehearsalScenario.UserName(i), SimulatedIdentities.User(SimulatedIdentities.SourceDomain, i).ToString())
        : users[(i - 1) % users.Count];

    /// <summary>A colleague who also signed in on device i.</summary>
    public (string Name, string Sid) Colleague(int i) => users.Count == 0
        ? (RehearsalScenario.UserName(30_000 + (i % 100)), SimulatedIdentities.User(SimulatedIdentities.SourceDomain, 30_000 + (i % 100)).ToString())
        : colleague;

    /// <summary>The groups in device i's ACLs.</summary>
    public IReadOnlyList<string> Groups(int i) => groups.Count == 0
        ? [SimulatedIdentities.DomainUsersOf(SimulatedIdentities.SourceDomain).ToString(), SimulatedIdentities.Group(SimulatedIdentities.SourceDomain, 1 + (i % 5)).ToString()]
        : groups;

    /// <summary>Reads the source domain's users ("user…" and alice) and groups (Domain Users, Finance) from its DC.</summary>
    public static async Task<RehearsalIdentities> ReadAsync(SambaRehearsal samba, CancellationToken ct)
    {
        using var source = new LdapActiveDirectoryDirectory(samba.Options(samba.SourceAddress, samba.SourceDnsName));
        using var destination = new LdapActiveDirectoryDirectory(samba.Options(samba.DestinationAddress, samba.DestinationDnsName));
        var domain = await source.ReadDomainAsync(ct);
        var destinationDomain = await destination.ReadDomainAsync(ct);
        var users = new List<(string, string)>();
        await foreach (var account in source.ListAccountsAsync(ActiveDirectoryAccountKind.User, cancellationToken: ct))
        {
            if (account.SamAccountName.StartsWith("user", StringComparison.OrdinalIgnoreCase))
            {
                users.Add((account.SamAccountName, account.Sid));
            }
        }
        if (users.Count == 0)
        {
            throw new InvalidOperationException($"{samba.SourceDnsName} has no 'user…' accounts; start the DCs with scripts/start/20-samba-dcs.sh.");
        }
        users.Sort((a, b) => string.CompareOrdinal(a.Item1, b.Item1));
        var alice = await source.FindAccountAsync("alice", ct) ?? throw new InvalidOperationException($"{samba.SourceDnsName} has no user alice.");
        var finance = await source.FindAccountAsync("Finance", ct) ?? throw new InvalidOperationException($"{samba.SourceDnsName} has no group Finance.");
        return new RehearsalIdentities(domain.DnsName, domain.NetBiosName, destinationDomain.DnsName, destinationDomain.NetBiosName,
            users, (alice.SamAccountName, alice.Sid),
            [$"{domain.Sid}-513", finance.Sid]);
    }
}

/// <summary>
/// The Samba pair that scripts/start/20-samba-dcs.sh starts (SRC.TEST and DST.TEST), as its environment lines
/// describe it: the rehearsal's source and destination domains when run with --samba.
/// </summary>
public sealed record SambaRehearsal(
    string SourceAddress, string SourceDnsName, string DestinationAddress, string DestinationDnsName, string DestinationBaseDn,
    string Password, string CertificateAuthorityDirectory, string NetCommand)
{
    public string DestinationOu => $"OU=Workstations,{DestinationBaseDn}";

    public static SambaRehearsal FromEnvironment() => new(
        Require("REHOME_TEST_SAMBA_SRC_ADDRESS"), Require("REHOME_TEST_SAMBA_SRC_REALM").ToLowerInvariant(),
        Require("REHOME_TEST_SAMBA_DST_ADDRESS"), Require("REHOME_TEST_SAMBA_DST_REALM").ToLowerInvariant(), Require("REHOME_TEST_SAMBA_DST_BASE_DN"),
        Require("REHOME_TEST_SAMBA_PASSWORD"), Require("REHOME_TEST_SAMBA_CA_DIRECTORY"), Require("REHOME_TEST_SAMBA_NET"));

    public ActiveDirectoryConnectionOptions Options(string address, string dnsName) => new()
    {
        Server = address,
        TrustedCertificatesDirectory = CertificateAuthorityDirectory,
        Credential = new DirectoryCredential($"Administrator@{dnsName}", Password),
    };

    /// <summary>The server's settings for these domains.</summary>
    public IEnumerable<string> ServerArguments() =>
    [
        "--Rehome:Directories:Mode=Connected",
        $"--Rehome:Directories:Connected:TrustedCertificatesDirectory={CertificateAuthorityDirectory}",
        $"--Rehome:Directories:Connected:NetCommand={NetCommand}",
    ];

    private static string Require(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{name} is not set: --samba rehearses against the test DCs; start them with scripts/rehearse-samba.sh (or scripts/start/20-samba-dcs.sh and its environment).");
}
