using System.ComponentModel.DataAnnotations;

namespace Rehome.Server.Observability;

/// <summary>
/// Who may read <c>/metrics</c>, and how fresh the store's gauges are. Bound from <c>Rehome:Metrics</c>.
/// The metrics credential is its own: neither an account's API token nor an agent's credential opens the
/// endpoint, and it opens nothing else, so a monitoring system holds no power over the migration.
/// </summary>
public sealed class MetricsOptions
{
    public const string Section = "Rehome:Metrics";

    /// <summary>
    /// The SHA-256 of the scraper's token, in hex (<c>printf %s "$TOKEN" | sha256sum</c>): the scraper sends
    /// <c>Authorization: Bearer $TOKEN</c>. Only the hash is configured, so a leaked configuration file does not
    /// leak the token. Unset: nobody may read the metrics (unless <see cref="AllowAnonymous"/>).
    /// </summary>
    [RegularExpression("^[0-9a-fA-F]{64}$", ErrorMessage = "Rehome:Metrics:TokenHash is the SHA-256 of the metrics token: 64 hexadecimal digits.")]
    public string? TokenHash { get; set; }

    /// <summary>
    /// Serves <c>/metrics</c> to anybody: only where the network already keeps strangers out (a scraper on a
    /// private interface). Off by default.
    /// </summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>
    /// How long the gauges read from the store (jobs by status, agents online) are reused: a scrape reads the
    /// store at most once per interval, whatever the number of scrapers.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan StoreReadInterval { get; set; } = TimeSpan.FromSeconds(15);
}
