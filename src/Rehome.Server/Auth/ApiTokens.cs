using System.Security.Cryptography;
using System.Text;

namespace Rehome.Server.Auth;

/// <summary>Personal API tokens: random, shown once, stored as SHA-256 (they carry 256 bits, so no slow hash is needed).</summary>
public static class ApiTokens
{
    public const string Prefix = "rht_";

    public static string Generate() =>
        Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>A new token for an account: the row to store (hash only) and the token to show once.</summary>
    public static (ApiToken Entity, string Token) Issue(Guid accountId, string name, DateTimeOffset now, DateTimeOffset? expiresAt)
    {
        var token = Generate();
        var entity = new ApiToken
        {
            Id = Guid.CreateVersion7(now),
            AccountId = accountId,
            Name = name,
            Prefix = VisiblePrefix(token),
            TokenHash = Hash(token),
            CreatedAt = now,
            ExpiresAt = expiresAt,
        };
        return (entity, token);
    }

    /// <summary>What a list shows of a token: enough to recognise it, too little to use it.</summary>
    public static string VisiblePrefix(string token) => token[..Math.Min(token.Length, Prefix.Length + 6)];
}
