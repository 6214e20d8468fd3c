using System.Security.Cryptography;
using System.Text;

namespace Rehome.Core.Connections;

/// <summary>
/// Configuration keys enroll agents for a source connection. The key is random, shown once, and only its
/// SHA-256 is stored: a stolen database enrolls nothing.
/// </summary>
public static class ConfigurationKeys
{
    public const string Prefix = "rhk_";

    public static string Generate() => Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public static bool Matches(string key, string hash) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(key)), Encoding.ASCII.GetBytes(hash));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
