using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using Rehome.Agent.Journal;
using Rehome.Protocol;

namespace Rehome.Agent.Enrollment;

/// <summary>What an enrolled agent keeps: its id, its server, its credential (protected) and the device as it enrolled.</summary>
public sealed record AgentIdentity
{
    public required Guid AgentId { get; init; }

    public required string ServerUrl { get; init; }

    /// <summary>The credential: DPAPI-protected for the agent's account (LocalSystem) on Windows; on other systems in a file only the agent's account can read.</summary>
    public required string ProtectedCredential { get; init; }

    public required DeviceFacts EnrolledAs { get; init; }

    /// <summary>Whether the server holds this agent's device key: false for agents enrolled before device keys, which bind theirs once.</summary>
    public bool DeviceKeyBound { get; init; }
}

/// <summary>Keeps the agent's identity in its state folder; the credential never sits in plain text on Windows.</summary>
public sealed class AgentIdentityStore(string stateFolder)
{
    private string FilePath => Path.Combine(stateFolder, "agent.json");

    public AgentIdentity? Load() => DurableFile.ReadJson<AgentIdentity>(FilePath);

    public void Save(AgentIdentity identity)
    {
        Directory.CreateDirectory(stateFolder);
        DurableFile.WriteJson(FilePath, identity);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(FilePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    public void Forget()
    {
        if (File.Exists(FilePath))
        {
            File.Delete(FilePath);
        }
    }

    public static string Protect(string credential) => OperatingSystem.IsWindows()
        ? "dpapi:" + Convert.ToBase64String(ProtectWindows(Encoding.UTF8.GetBytes(credential)))
        : "plain:" + credential;

    public static string Unprotect(string stored) => stored.StartsWith("dpapi:", StringComparison.Ordinal) && OperatingSystem.IsWindows()
        ? Encoding.UTF8.GetString(UnprotectWindows(Convert.FromBase64String(stored[6..])))
        : stored.StartsWith("plain:", StringComparison.Ordinal) ? stored[6..] : throw new InvalidOperationException("The stored credential cannot be read on this system.");

    [SupportedOSPlatform("windows")]
    private static byte[] ProtectWindows(byte[] data) => ProtectedData.Protect(data, Entropy, DataProtectionScope.CurrentUser);

    [SupportedOSPlatform("windows")]
    private static byte[] UnprotectWindows(byte[] data) => ProtectedData.Unprotect(data, Entropy, DataProtectionScope.CurrentUser);

    private static readonly byte[] Entropy = "Rehome.Agent.Credential.v1"u8.ToArray();
}
