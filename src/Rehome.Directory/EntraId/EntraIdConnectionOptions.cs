using System.Security.Cryptography.X509Certificates;
using Azure.Core;
using Azure.Identity;

namespace Rehome.Directory.EntraId;

/// <summary>An app registration in one Microsoft Entra ID tenant, and how Rehome talks to Graph for it.</summary>
public sealed record EntraIdConnectionOptions
{
    /// <summary>The Microsoft Graph v1.0 endpoint; a national cloud's, or a local stand-in in tests.</summary>
    public static readonly Uri GlobalGraphBaseUrl = new("https://graph.microsoft.com/v1.0");

    /// <summary>The tenant (directory) id or a verified domain.</summary>
    public required string TenantId { get; init; }

    /// <summary>The app registration's application (client) id.</summary>
    public required string ClientId { get; init; }

    /// <summary>The client secret; a secret. Either this or <see cref="ClientCertificate"/>.</summary>
    public string? ClientSecret { get; init; }

    /// <summary>A certificate with its private key, registered on the app.</summary>
    public X509Certificate2? ClientCertificate { get; init; }

    /// <summary>The Graph endpoint the SDK is pointed at.</summary>
    public Uri GraphBaseUrl { get; init; } = GlobalGraphBaseUrl;

    /// <summary>How often an Autopilot import's status is read while it is still being processed.</summary>
    public TimeSpan AutopilotPollInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one call waits for an Autopilot import before reporting it as still processing.</summary>
    public TimeSpan AutopilotImportWait { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>How many times throttled or transiently failed items of a batch are sent again.</summary>
    public int BatchItemRetries { get; init; } = 5;

    /// <summary>The wait before a throttled batch item is sent again when Graph gives no Retry-After.</summary>
    public TimeSpan DefaultRetryAfter { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The Azure.Identity credential for these options (client secret or certificate).</summary>
    /// <exception cref="InvalidOperationException">Neither a secret nor a certificate is set.</exception>
    public TokenCredential CreateCredential()
    {
        if (ClientCertificate is { } certificate)
        {
            return new ClientCertificateCredential(TenantId, ClientId, certificate);
        }

        return ClientSecret is { Length: > 0 } secret
            ? new ClientSecretCredential(TenantId, ClientId, secret)
            : throw new InvalidOperationException("The Entra ID connection needs a client secret or a client certificate.");
    }

    /// <summary>Everything but the secret, so options written to a log reveal none.</summary>
    public override string ToString() =>
        $"Entra ID tenant {TenantId}, client {ClientId}, {(ClientCertificate is null ? "client secret" : "certificate " + ClientCertificate.Thumbprint)}, Graph {GraphBaseUrl}";
}
