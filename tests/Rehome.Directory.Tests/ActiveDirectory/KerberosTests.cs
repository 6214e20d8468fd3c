using Rehome.Directory.ActiveDirectory;

namespace Rehome.Directory.Tests.ActiveDirectory;

public sealed class KerberosTests
{
    [Fact]
    public async Task Negotiate_binds_with_the_processes_kerberos_ticket_and_reads_the_domain()
    {
        // scripts/start/20-samba-dcs.sh got a ticket for Administrator@DST.TEST and pointed Kerberos at the DC
        // (KRB5_CONFIG, KRB5CCNAME; LDAPSASL_NOCANON so the address is used as the host name).
        var options = SambaDomains.Destination.Options(ldaps: false) with
        {
            Authentication = ActiveDirectoryAuthentication.Negotiate,
            Credential = null,
        };
        using var directory = new LdapActiveDirectoryDirectory(options);

        var result = await directory.TestConnectionAsync();

        Assert.True(result.Succeeded, string.Join("; ", result.Checks));
        Assert.EndsWith("over LDAP as the Kerberos ticket.", result.Checks[0].Detail, StringComparison.Ordinal);
        Assert.Equal("DST", (await directory.ReadDomainAsync()).NetBiosName);
    }
}
