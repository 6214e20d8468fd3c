using System.ComponentModel.DataAnnotations;
using Rehome.Directory.EntraId;

namespace Rehome.Server.Directories.Connected;

/// <summary>How the server reaches the real directories. Bound from <c>Rehome:Directories:Connected</c>.</summary>
public sealed class ConnectedDirectoryOptions
{
    public const string Section = DirectoriesOptions.Section + ":Connected";

    /// <summary>
    /// On Linux, a folder of trusted CA certificates in OpenSSL's hashed layout (c_rehash) for LDAPS; the
    /// system's trust store when not set.
    /// </summary>
    public string? TrustedCertificatesDirectory { get; set; }

    /// <summary>Samba's <c>net</c> (Linux servers make offline join data with it); a wrapper fits too.</summary>
    [Required]
    public string NetCommand { get; set; } = "net";

    /// <summary>The Microsoft Graph endpoint (a national cloud's, or a local stand-in).</summary>
    [Required]
    public Uri GraphBaseUrl { get; set; } = EntraIdConnectionOptions.GlobalGraphBaseUrl;

    /// <summary>How long a project's users and groups are kept before they are read again.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan IdentityCacheLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long one agent request waits for an Autopilot import before answering "under way".</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan AutopilotImportWait { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How often an Autopilot import's status is read while the request waits.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan AutopilotPollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How many destination computers are provisioned at once.</summary>
    [Range(1, 64)]
    public int ProvisioningConcurrency { get; set; } = 4;
}
