using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Rehome.Protocol;

/// <summary>
/// The agent version the server wants this agent to run (<c>GET update</c>): the package's SHA-256 and its
/// publisher's detached signature travel with it, so the agent checks both against the publisher key it was
/// installed with before it runs anything the server handed it.
/// </summary>
public sealed record AgentUpdateOffer(Guid PackageId, string Version, long SizeBytes, string Sha256, string Signature);

/// <summary>How an update ended on the device.</summary>
public enum AgentUpdateOutcome
{
    /// <summary>The new version started and checked in.</summary>
    Updated,

    /// <summary>The new version did not check in within the window: the previous version was restored.</summary>
    RolledBack,

    /// <summary>The agent refused the package (hash or signature wrong): nothing was installed.</summary>
    Refused,
}

/// <summary>What an agent tells the server about an update it tried (<c>POST update/report</c>).</summary>
public sealed record AgentUpdateReport(string FromVersion, string ToVersion, AgentUpdateOutcome Outcome, string? Message = null);

/// <summary>Agent version strings: two to four dot-separated numbers (<c>1.4</c>, <c>1.4.2</c>, <c>1.4.2.17</c>).</summary>
public static partial class AgentVersions
{
    public const int MaxLength = 32;

    public static bool IsValid(string? version) => version is { Length: > 0 and <= MaxLength } && Shape().IsMatch(version)
        && Version.TryParse(version, out _);

    /// <summary>Orders versions by their numbers (1.10 after 1.9); an invalid one sorts first.</summary>
    public static int Compare(string? a, string? b) =>
        Comparer<Version?>.Default.Compare(Parse(a), Parse(b));

    private static Version? Parse(string? version) => IsValid(version) ? Version.Parse(version!) : null;

    [GeneratedRegex(@"^\d{1,9}(\.\d{1,9}){1,3}$", RegexOptions.CultureInvariant)]
    private static partial Regex Shape();
}

/// <summary>
/// The publisher's detached signature over an agent package: ECDSA P-256 (DER, as <c>openssl dgst -sha256 -sign</c>
/// makes it, or IEEE P1363) or RSA PKCS#1 v1.5 over SHA-256, checked against PEM public keys. The server checks
/// it before it accepts a package; the agent checks it again against its own key before it installs one.
/// </summary>
public static class PackageSignature
{
    /// <summary>The public keys in <paramref name="pem"/> (one or more <c>-----BEGIN PUBLIC KEY-----</c> blocks); unreadable blocks are left out.</summary>
    public static IReadOnlyList<byte[]> ReadPublicKeys(string? pem)
    {
        var keys = new List<byte[]>();
        if (string.IsNullOrWhiteSpace(pem))
        {
            return keys;
        }
        foreach (Match block in Regex.Matches(pem, "-----BEGIN PUBLIC KEY-----(.*?)-----END PUBLIC KEY-----", RegexOptions.Singleline))
        {
            try
            {
                var der = Convert.FromBase64String(Regex.Replace(block.Groups[1].Value, @"\s", ""));
                if (Open(der) is { } opened)
                {
                    opened.Dispose();
                    keys.Add(der);
                }
            }
            catch (FormatException)
            {
                // Not base64: not a key.
            }
        }
        return keys;
    }

    /// <summary>The key (SubjectPublicKeyInfo) among <paramref name="keys"/> that signed <paramref name="sha256"/>, or null.</summary>
    public static byte[]? SignerOf(ReadOnlySpan<byte> sha256, byte[] signature, IEnumerable<byte[]> keys)
    {
        foreach (var key in keys)
        {
            using var opened = Open(key);
            var valid = opened switch
            {
                ECDsa ecdsa => ecdsa.VerifyHash(sha256, signature, DSASignatureFormat.Rfc3279DerSequence)
                    || ecdsa.VerifyHash(sha256, signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
                RSA rsa => rsa.VerifyHash(sha256, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
                _ => false,
            };
            if (valid)
            {
                return key;
            }
        }
        return null;
    }

    /// <summary>The first 16 bytes of the key's SHA-256 in hex pairs, to name a publisher key.</summary>
    public static string Fingerprint(byte[] key) =>
        string.Join(':', Convert.ToHexStringLower(SHA256.HashData(key)).Chunk(2).Take(16).Select(pair => new string(pair)));

    /// <summary>The SHA-256 of a package in lower-case hex, as offers carry it.</summary>
    public static string Sha256Hex(ReadOnlySpan<byte> sha256) => Convert.ToHexStringLower(sha256);

    private static AsymmetricAlgorithm? Open(byte[] subjectPublicKeyInfo)
    {
        try
        {
            var ecdsa = ECDsa.Create();
            ecdsa.ImportSubjectPublicKeyInfo(subjectPublicKeyInfo, out _);
            return ecdsa;
        }
        catch (CryptographicException)
        {
            // Not an EC key: perhaps RSA.
        }
        try
        {
            var rsa = RSA.Create();
            rsa.ImportSubjectPublicKeyInfo(subjectPublicKeyInfo, out _);
            return rsa.KeySize >= 2048 ? rsa : null;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }
}
