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

    /// <summary>The agent id inside a credential, or false when the text is not one.</summary>
    public static bool TryReadAgentId(string credential, out Guid agentId)
    {
        agentId = default;
        var prefix = AgentProtocol.CredentialPrefix.Length;
        return credential.Length > prefix + 33
            && credential.StartsWith(AgentProtocol.CredentialPrefix, StringComparison.Ordinal)
            && credential[prefix + 32] == '.'
            && Guid.TryParseExact(credential.AsSpan(prefix, 32), "N", out agentId);
    }

    /// <summary>Compares hashes in constant time.</summary>
    public static bool Matches(string credential, string hash) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(credential)), Encoding.ASCII.GetBytes(hash));
}
