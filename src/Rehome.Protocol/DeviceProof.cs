using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Rehome.Protocol;

/// <summary>
/// How a device proves who it is: the public half of a key pair made on the device and kept by its OS (TPM-backed
/// where present), the hardware identity it read, and a signature made moments ago with the private half over
/// what the request claims (<see cref="Payload"/>). The server binds a device to its first key; a request signed
/// with another key is held for an administrator.
/// </summary>
public sealed record DeviceProof
{
    /// <summary>The device's ECDSA P-256 public key as SubjectPublicKeyInfo (DER), base64.</summary>
    public required string PublicKey { get; init; }

    /// <summary>The hardware identity the device read (Windows: the SMBIOS system UUID). Shown to administrators; not a proof by itself.</summary>
    public required string HardwareId { get; init; }

    /// <summary>When the device signed; the server takes only recent proofs, each newer than the last it took.</summary>
    public required DateTimeOffset SignedAt { get; init; }

    /// <summary>ECDSA with SHA-256 over <see cref="Payload"/>, IEEE P1363 (r‖s), base64.</summary>
    public required string Signature { get; init; }

    public const int MaxHardwareIdLength = 128;

    /// <summary>How far a proof's time may be from the server's clock, either way.</summary>
    public static TimeSpan Freshness { get; } = TimeSpan.FromMinutes(5);

    /// <summary>An enrollment's proof: binds the key to this device name and this connection's configuration key.</summary>
    public static DeviceProof ForEnrollment(
        string configurationKey, string deviceName, byte[] publicKey, string hardwareId, DateTimeOffset signedAt, Func<byte[], byte[]> sign) =>
        Create(EnrollmentSubject(configurationKey, deviceName), publicKey, hardwareId, signedAt, sign);

    /// <summary>The proof by which an agent enrolled before keys existed binds its device key, once.</summary>
    public static DeviceProof ForBinding(Guid agentId, byte[] publicKey, string hardwareId, DateTimeOffset signedAt, Func<byte[], byte[]> sign) =>
        Create(BindingSubject(agentId), publicKey, hardwareId, signedAt, sign);

    /// <summary>What an enrollment signs besides the key: the purpose, the device name as mappings key it, the configuration key's hash.</summary>
    public static string EnrollmentSubject(string configurationKey, string deviceName) =>
        "rehome-enroll-v1\n" + deviceName.Trim().ToUpperInvariant() + "\n"
        + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(configurationKey.Trim())));

    public static string BindingSubject(Guid agentId) => "rehome-bind-v1\n" + agentId.ToString("D");

    /// <summary>The bytes signed: the subject, the key, the hardware id and the time, one a line (a purpose prefix keeps one kind of proof from passing for another).</summary>
    public static byte[] Payload(string subject, string publicKey, string hardwareId, DateTimeOffset signedAt) =>
        Encoding.UTF8.GetBytes(string.Join('\n', subject, publicKey, hardwareId,
            signedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)));

    private static DeviceProof Create(string subject, byte[] publicKey, string hardwareId, DateTimeOffset signedAt, Func<byte[], byte[]> sign)
    {
        var key = Convert.ToBase64String(publicKey);
        // Milliseconds: the time travels as JSON and must sign the same on both sides.
        var at = DateTimeOffset.FromUnixTimeMilliseconds(signedAt.ToUnixTimeMilliseconds());
        return new DeviceProof
        {
            PublicKey = key,
            HardwareId = hardwareId,
            SignedAt = at,
            Signature = Convert.ToBase64String(sign(Payload(subject, key, hardwareId, at))),
        };
    }
}

/// <summary>The agent binds its device key to its credential (agents enrolled before keys existed); see <see cref="DeviceProof.ForBinding"/>.</summary>
public sealed record BindIdentityRequest(DeviceProof Proof);
