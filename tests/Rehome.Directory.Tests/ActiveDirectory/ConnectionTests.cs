using Rehome.Directory.ActiveDirectory;

namespace Rehome.Directory.Tests.ActiveDirectory;

public sealed class ConnectionTests
{
    [Fact]
    public async Task Connection_test_over_validated_ldaps_passes_every_check_and_names_the_domain()
    {
        using var directory = new LdapActiveDirectoryDirectory(SambaDomains.Destination.Options());

        var result = await directory.TestConnectionAsync();

        Assert.True(result.Succeeded, string.Join("; ", result.Checks));
        Assert.Equal(
            ["Bind", "Domain partition", "Domain SID", "NetBIOS name", "Domain controllers", "Functional level"],
            result.Checks.Select(check => check.Name));
        Assert.Contains("DST (dst.test)", result.Checks.Single(check => check.Name == "NetBIOS name").Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Domain_is_read_with_names_sid_controllers_and_functional_level()
    {
        var destination = SambaDomains.Destination;
        using var directory = new LdapActiveDirectoryDirectory(destination.Options());

        var domain = await directory.ReadDomainAsync();

        Assert.Equal("dst.test", domain.DnsName);
        Assert.Equal("DST", domain.NetBiosName);
        Assert.Equal(destination.BaseDn, domain.DistinguishedName);
        Assert.Matches(@"^S-1-5-21-\d+-\d+-\d+$", domain.Sid);
        Assert.Equal([destination.DcName], domain.DomainControllers);
        Assert.Equal(destination.DcName, domain.ConnectedDomainController);
        Assert.StartsWith("Windows Server", domain.DomainFunctionalLevel, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_two_domains_have_different_sids()
    {
        using var source = new LdapActiveDirectoryDirectory(SambaDomains.Source.Options());
        using var destination = new LdapActiveDirectoryDirectory(SambaDomains.Destination.Options());

        var sourceDomain = await source.ReadDomainAsync();
        var destinationDomain = await destination.ReadDomainAsync();

        Assert.Equal("SRC", sourceDomain.NetBiosName);
        Assert.NotEqual(sourceDomain.Sid, destinationDomain.Sid);
    }

    [Fact]
    public async Task Simple_bind_over_plain_ldap_works_when_the_dc_allows_it()
    {
        using var directory = new LdapActiveDirectoryDirectory(SambaDomains.Source.Options(ldaps: false));

        var result = await directory.TestConnectionAsync();

        Assert.True(result.Succeeded, string.Join("; ", result.Checks));
        Assert.Contains("over LDAP as", result.Checks[0].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_password_fails_the_bind_check_and_stops_there()
    {
        using var directory = new LdapActiveDirectoryDirectory(SambaDomains.Destination.Options(password: "not-the-password"));

        var result = await directory.TestConnectionAsync();

        Assert.False(result.Succeeded);
        var bind = Assert.Single(result.Checks);
        Assert.False(bind.Passed);
        Assert.Contains("rejected the credentials of Administrator@dst.test", bind.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", bind.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ldaps_is_refused_when_the_dc_certificate_authority_is_not_trusted()
    {
        var untrusted = System.IO.Directory.CreateTempSubdirectory("rehome-no-ca-");
        try
        {
            var options = SambaDomains.Destination.Options() with { TrustedCertificatesDirectory = untrusted.FullName };
            using var directory = new LdapActiveDirectoryDirectory(options);

            var result = await directory.TestConnectionAsync();

            var bind = Assert.Single(result.Checks);
            Assert.False(bind.Passed);
            Assert.Contains("TLS handshake", bind.Detail, StringComparison.Ordinal);
            Assert.Contains("certificate is not trusted", bind.Detail, StringComparison.Ordinal);
        }
        finally
        {
            untrusted.Delete(true);
        }
    }

    [Fact]
    public async Task A_dc_that_does_not_answer_is_reported_as_unavailable()
    {
        // Nothing listens on this loopback address and port.
        var options = SambaDomains.Destination.Options() with { Server = "127.0.0.9", Port = 6369 };
        using var directory = new LdapActiveDirectoryDirectory(options);

        var exception = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => directory.ReadDomainAsync());

        Assert.Equal("The domain controller 127.0.0.9:6369 cannot be reached over LDAPS.", exception.Message);
    }

    [Fact]
    public void Options_without_credentials_for_simple_bind_are_refused_with_the_reason()
    {
        var options = SambaDomains.Destination.Options() with { Credential = null };

        var exception = Assert.Throws<ArgumentException>(() => new LdapActiveDirectoryDirectory(options));

        Assert.StartsWith("Simple bind needs a user name and password.", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Accepting_any_ldaps_certificate_is_refused_off_windows_with_what_to_do_instead()
    {
        var options = SambaDomains.Destination.Options() with { CertificateValidation = LdapCertificateValidation.AcceptAny };

        var exception = Assert.Throws<ArgumentException>(() => new LdapActiveDirectoryDirectory(options));

        Assert.Contains("only possible on Windows", exception.Message, StringComparison.Ordinal);
        Assert.Contains("trusted certificates directory", exception.Message, StringComparison.Ordinal);
    }
}
