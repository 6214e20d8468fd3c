using System.Security.Cryptography;
using System.Text;
using Rehome.Protocol;

namespace Rehome.Server.Gateway;

/// <summary>
/// An agent's credential: <c>rha_&lt;agent id&gt;.&lt;256 random bits&gt;</c>. The id lets the gateway find the agent
/// without a search; the random part is only kept as a SHA-256 hash (it is a key, not a password, so a slow hash
/// adds nothing but cost to every poll).
/// </summary>
public static class AgentCredentials
{
    public static (string Credential, string Hash) Issue(Guid agentId)
    {
        var credential = $"{AgentProtocol.CredentialPrefix}{agentId:N}.{Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_')}";
        return (credential, Hash(credential));
    }

    public static string Hash(string credential) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(credential)));

    /// <summary>The longest credential looked at: <see cref="Issue"/> makes 80 characters; anything much longer is not one.</summary>
    public const int MaxLength = 256;

    /// <summary>The agent id inside a credential, or false when the text is not one.</summary>
    public static bool TryReadAgentId(ReadOnlySpan<char> credential, out Guid agentId)
    {
        agentId = default;
        var prefix = AgentProtocol.CredentialPrefix.Length;
        return credential.Length > prefix + 33
            && credential.StartsWith(AgentProtocol.CredentialPrefix, StringComparison.Ordinal)
            && credential[prefix + 32] == '.'
            && Guid.TryParseExact(credential.Slice(prefix, 32), "N", out agentId);
    }

    /// <summary>
    /// Compares the credential's SHA-256 with the stored one (<see cref="HashBytes"/> of <see cref="Hash"/>'s text) in
    /// constant time, on the stack: every poll comes here.
    /// </summary>
    public static bool Matches(ReadOnlySpan<char> credential, ReadOnlySpan<byte> hash)
    {
        if (credential.Length > MaxLength || hash.Length != SHA256.HashSizeInBytes)
        {
            return false;
        }
        Span<byte> text = stackalloc byte[MaxLength * 3];
        var length = Encoding.UTF8.GetBytes(credential, text);
        Span<byte> computed = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(text[..length], computed);
        return CryptographicOperations.FixedTimeEquals(computed, hash);
    }

    /// <summary>The stored hash's bytes (its text is lower-case hexadecimal); empty when it is not a hash.</summary>
    public static byte[] HashBytes(string hash)
    {
        try
        {
            return Convert.FromHexString(hash);
        }
        catch (FormatException)
        {
            return [];
        }
    }
}
