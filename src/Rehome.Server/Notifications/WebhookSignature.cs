using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Rehome.Server.Notifications;

/// <summary>
/// The webhook signature: header <c>Rehome-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256 of "t.body"&gt;</c>
/// with the subscription's secret. The time is signed with the body, so a receiver that refuses old times
/// refuses a captured message sent again.
/// </summary>
public static class WebhookSignature
{
    public const string Header = "Rehome-Signature";

    /// <summary>The delivery's id: the same on every attempt, so a receiver can drop a message it already took.</summary>
    public const string DeliveryHeader = "Rehome-Delivery";

    public static string Sign(string secret, DateTimeOffset at, string body)
    {
        var t = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return $"t={t},v1={Mac(secret, t, body)}";
    }

    /// <summary>Whether <paramref name="header"/> signs <paramref name="body"/> with <paramref name="secret"/> within <paramref name="tolerance"/> of <paramref name="now"/>.</summary>
    public static bool Verify(string? header, string secret, string body, DateTimeOffset now, TimeSpan tolerance)
    {
        if (header is null)
        {
            return false;
        }
        var parts = header.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.Ordinal);
        if (!parts.TryGetValue("t", out var t) || !parts.TryGetValue("v1", out var v1)
            || !long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || (now - DateTimeOffset.FromUnixTimeSeconds(seconds)).Duration() > tolerance)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Mac(secret, t, body)), Encoding.ASCII.GetBytes(v1));
    }

    private static string Mac(string secret, string t, string body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}")));
}
