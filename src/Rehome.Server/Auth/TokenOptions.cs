using System.ComponentModel.DataAnnotations;

namespace Rehome.Server.Auth;

/// <summary>How long personal API tokens live. Bound from <c>Rehome:Auth</c>.</summary>
public sealed class TokenOptions
{
    public const string Section = "Rehome:Auth";

    /// <summary>
    /// Whether a token may be created that never expires (<c>neverExpires</c>). Off by default: a forgotten token
    /// in a script or a config file should stop working by itself.
    /// </summary>
    public bool AllowTokensWithoutExpiry { get; set; }

    /// <summary>The lifetime of a token created without <c>expiresInDays</c>.</summary>
    [Range(1, 3650)]
    public int DefaultTokenLifetimeDays { get; set; } = 90;
}
