using Rehome.Directory.ActiveDirectory;

namespace Rehome.Directory.Tests.ActiveDirectory;

/// <summary>One of the two Samba DCs that scripts/start/20-samba-dcs.sh started, as its env lines describe it.</summary>
public sealed record SambaDomain(string Prefix, string Address, string Realm, string NetBiosName, string BaseDn, string DcName, string NetCommand)
{
    public string DnsName => Realm.ToLowerInvariant();

    public string Workstations => $"OU=Workstations,{BaseDn}";

    public ActiveDirectoryConnectionOptions Options(bool ldaps = true, string? password = null, string user = "Administrator", int pageSize = 500) => new()
    {
        Server = Address,
        UseLdaps = ldaps,
        TrustedCertificatesDirectory = SambaDomains.CertificateAuthorityDirectory,
        Credential = new DirectoryCredential($"{user}@{DnsName}", password ?? SambaDomains.Password),
        PageSize = pageSize,
    };
}

/// <summary>
/// The Samba pair. The values come from the environment that test.sh exports; running these tests
/// without it fails with a message saying so (they never skip).
/// </summary>
public static class SambaDomains
{
    public static string Password => Require("REHOME_TEST_SAMBA_PASSWORD");

    public static string UnprivilegedUser => Require("REHOME_TEST_SAMBA_UNPRIVILEGED_USER");

    public static string CertificateAuthorityDirectory => Require("REHOME_TEST_SAMBA_CA_DIRECTORY");

    public static SambaDomain Source => Read("SRC");

    public static SambaDomain Destination => Read("DST");

    /// <summary>A computer name no earlier run used, so tests can be repeated against the same DCs.</summary>
    public static string NewComputerName(string prefix) =>
        prefix + Guid.NewGuid().ToString("N")[..(15 - prefix.Length)].ToUpperInvariant();

    private static SambaDomain Read(string prefix) => new(
        prefix,
        Require($"REHOME_TEST_SAMBA_{prefix}_ADDRESS"),
        Require($"REHOME_TEST_SAMBA_{prefix}_REALM"),
        Require($"REHOME_TEST_SAMBA_{prefix}_DOMAIN"),
        Require($"REHOME_TEST_SAMBA_{prefix}_BASE_DN"),
        Require($"REHOME_TEST_SAMBA_{prefix}_DC_NAME"),
        Require($"REHOME_TEST_SAMBA_{prefix}_NET"));

    private static string Require(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{name} is not set: run the tests through ./test.sh, which starts the Samba DCs (scripts/start/20-samba-dcs.sh).");
}
