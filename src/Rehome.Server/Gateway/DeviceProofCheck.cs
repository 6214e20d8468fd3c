using System.Globalization;
using System.Security.Cryptography;
using Rehome.Core.Validation;
using Rehome.Protocol;

namespace Rehome.Server.Gateway;

/// <summary>
/// Checks a <see cref="DeviceProof"/>: an ECDSA P-256 key, a signature over what the request claims made with
/// it, recent (within <see cref="DeviceProof.Freshness"/> of the server's clock) and newer than the last proof
/// taken for the device, so a captured request cannot be sent again.
/// </summary>
public static class DeviceProofCheck
{
    /// <summary>Longest public key taken (a P-256 SubjectPublicKeyInfo is 91 bytes).</summary>
    private const int MaxPublicKeyChars = 256;

    private const int MaxSignatureChars = 256;

    /// <summary>
    /// The violations of <paramref name="proof"/> (named under <paramref name="field"/>) for a request claiming
    /// <paramref name="subject"/> (<see cref="DeviceProof.EnrollmentSubject"/>, <see cref="DeviceProof.BindingSubject"/>);
    /// <paramref name="newestTaken"/> is the newest proof time taken for this device key before, if any.
    /// </summary>
    public static IReadOnlyList<RuleViolation> Check(string field, DeviceProof? proof, string subject, DateTimeOffset now, DateTimeOffset? newestTaken)
    {
        var violations = new RuleViolations();
        if (proof is null)
        {
            violations.Add(field, "Required", "The device's proof (its public key, hardware id and a signature) is required; update the agent.");
            return violations.Items;
        }
        if (violations.Require($"{field}.hardwareId", proof.HardwareId, "The hardware id"))
        {
            violations.Text($"{field}.hardwareId", proof.HardwareId, DeviceProof.MaxHardwareIdLength, "The hardware id");
            // An administrator compares hardware ids by eye: invisible format characters (zero-width and the like) would make two look alike.
            if (!violations.Any && proof.HardwareId.FirstOrDefault(c => char.GetUnicodeCategory(c) == UnicodeCategory.Format) is var format and not '\0')
            {
                violations.Add($"{field}.hardwareId", TextRules.ControlCharacterRule,
                    $"The hardware id holds the invisible format character U+{(int)format:X4}; format characters are refused.");
            }
        }
        using var key = ReadKey(proof.PublicKey);
        if (key is null)
        {
            violations.Add($"{field}.publicKey", "PublicKeyUnsupported", "The public key must be an ECDSA P-256 SubjectPublicKeyInfo in base64.");
        }
        if (proof.SignedAt < now - DeviceProof.Freshness || proof.SignedAt > now + DeviceProof.Freshness)
        {
            violations.Add($"{field}.signedAt", "ProofStale",
                $"The proof was signed at {proof.SignedAt:u}, more than {DeviceProof.Freshness.TotalMinutes:F0} minutes from the server's time {now:u}; check the device's clock.");
        }
        else if (newestTaken is { } newest && proof.SignedAt <= newest)
        {
            violations.Add($"{field}.signedAt", "ProofReplayed", "A proof this old was already taken for this device key; sign a new one.");
        }
        if (violations.Any || key is null)
        {
            return violations.Items;
        }
        var signature = FromBase64(proof.Signature, MaxSignatureChars);
        if (signature is null
            || !key.VerifyData(DeviceProof.Payload(subject, proof.PublicKey, proof.HardwareId, proof.SignedAt), signature, HashAlgorithmName.SHA256))
        {
            violations.Add($"{field}.signature", "SignatureInvalid",
                "The signature does not verify with the public key over this request; the device must sign with the key it presents.");
        }
        return violations.Items;
    }

    private static ECDsa? ReadKey(string? publicKey)
    {
        var der = FromBase64(publicKey, MaxPublicKeyChars);
        if (der is null)
        {
            return null;
        }
        var key = ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(der, out var read);
            if (read == der.Length && key.ExportParameters(false).Curve.Oid.Value == ECCurve.NamedCurves.nistP256.Oid.Value)
            {
                return key;
            }
        }
        catch (CryptographicException)
        {
            // Not a key this server takes: refused below.
        }
        key.Dispose();
        return null;
    }

    private static byte[]? FromBase64(string? text, int maxChars)
    {
        if (string.IsNullOrEmpty(text) || text.Length > maxChars)
        {
            return null;
        }
        var bytes = new byte[text.Length];
        return Convert.TryFromBase64String(text, bytes, out var written) ? bytes[..written] : null;
    }
}
