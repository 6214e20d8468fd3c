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

    /// <summary>What a list shows of a token: enough to recognise it, too little to use it.</summary>
    public static string VisiblePrefix(string token) => token[..Math.Min(token.Length, Prefix.Length + 6)];
}
