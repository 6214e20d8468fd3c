using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Azure.Identity;
using Rehome.Directory.EntraId;

namespace Rehome.Directory.Tests.EntraId;

public sealed class EntraIdConnectionOptionsTests
{
    private static readonly EntraIdConnectionOptions Options = new()
    {
        TenantId = "contoso.example",
        ClientId = "3f7a9c1e-0000-4000-8000-000000000001",
        ClientSecret = "very-secret-value",
    };

    [Fact]
    public void A_client_secret_gives_a_client_secret_credential()
    {
        Assert.IsType<ClientSecretCredential>(Options.CreateCredential());
    }

    [Fact]
    public void A_client_certificate_gives_a_client_certificate_credential()
    {
        using var key = ECDsa.Create();
        using var certificate = new CertificateRequest("CN=Rehome test app", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));

        var credential = (Options with { ClientSecret = null, ClientCertificate = certificate }).CreateCredential();

        Assert.IsType<ClientCertificateCredential>(credential);
    }

    [Fact]
    public void Options_without_secret_or_certificate_are_refused_with_the_reason()
    {
        var exception = Assert.Throws<InvalidOperationException>(() => (Options with { ClientSecret = null }).CreateCredential());

        Assert.Contains("client secret or a client certificate", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_options_written_out_never_show_the_secret()
    {
        var text = Options.ToString();

        Assert.Contains("contoso.example", text, StringComparison.Ordinal);
        Assert.DoesNotContain("very-secret-value", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_credential_written_out_never_shows_the_password()
    {
        var credential = new DirectoryCredential(@"DST\Administrator", "Pa55-word");

        Assert.Equal(@"DST\Administrator (password hidden)", credential.ToString());
    }
}
