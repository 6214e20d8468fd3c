using System.IO.Compression;
using System.Security.Cryptography;
using Rehome.Core.Validation;
using Rehome.Protocol;

namespace Rehome.Server.AgentUpdates;

/// <summary>What an accepted package is: its hash and the publisher key that signed it.</summary>
public sealed record PackageAccepted(string Sha256, string PublisherKey);

/// <summary>
/// Whether an uploaded agent package is taken: a version string agents can compare, a zip, and a detached
/// signature over its SHA-256 by one of the configured publisher keys. Plain code: every refusal names its field.
/// </summary>
public static class AgentPackageRules
{
    public static (PackageAccepted? Accepted, IReadOnlyList<RuleViolation> Violations) Check(
        string? version, string? signature, byte[] content, IReadOnlyList<byte[]> publisherKeys)
    {
        var violations = new RuleViolations();
        if (!AgentVersions.IsValid(version))
        {
            violations.Add("version", "AgentVersionFormat",
                $"The version is two to four dot-separated numbers (1.4.2), at most {AgentVersions.MaxLength} characters.");
        }
        if (content.Length == 0)
        {
            violations.Add("package", "Required", "The package (the agent's files as a zip) is the request's body.");
        }
        else if (!IsZip(content))
        {
            violations.Add("package", "NotAZip", "The package is not a zip archive of the agent's files.");
        }
        var hash = SHA256.HashData(content);
        byte[]? signatureBytes = null;
        if (string.IsNullOrWhiteSpace(signature))
        {
            violations.Add("signature", "Required", "The publisher's detached signature (base64) is required.");
        }
        else
        {
            try
            {
                signatureBytes = Convert.FromBase64String(signature.Trim());
            }
            catch (FormatException)
            {
                violations.Add("signature", "SignatureFormat", "The signature is not base64.");
            }
        }
        byte[]? signer = null;
        if (signatureBytes is not null && content.Length > 0)
        {
            signer = PackageSignature.SignerOf(hash, signatureBytes, publisherKeys);
            if (signer is null)
            {
                violations.Add("signature", "SignatureInvalid",
                    "The signature does not verify with any configured publisher key (Rehome:AgentUpdates:PublisherKeys): sign the package's SHA-256 with the publisher's private key.");
            }
        }
        return violations.Any ? (null, violations.Items) : (new PackageAccepted(PackageSignature.Sha256Hex(hash), PackageSignature.Fingerprint(signer!)), []);
    }

    private static bool IsZip(byte[] content)
    {
        try
        {
            using var zip = new ZipArchive(new MemoryStream(content), ZipArchiveMode.Read);
            return zip.Entries.Count > 0;
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }
}
