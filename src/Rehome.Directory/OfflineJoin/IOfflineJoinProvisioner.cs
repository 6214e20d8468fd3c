using Rehome.Directory.ActiveDirectory;

namespace Rehome.Directory.OfflineJoin;

/// <summary>
/// Produces the offline domain join data (the file djoin.exe /requestodj takes) for one destination
/// computer. The data holds the machine account's password: store it encrypted, hand it only to the
/// mapping's agent, and delete it after use.
/// </summary>
public interface IOfflineJoinProvisioner
{
    /// <summary>
    /// Creates (or, when the request allows it, reuses) the computer account and returns its offline join
    /// data, or a failure with its reason. An unreachable domain is a <see cref="DirectoryUnavailableException"/>.
    /// </summary>
    Task<OfflineJoinResult> ProvisionAsync(OfflineJoinRequest request, CancellationToken cancellationToken = default);
}

/// <summary>The destination computer to provision.</summary>
/// <param name="MachineName">The computer name in the destination domain.</param>
/// <param name="OrganizationalUnit">The OU's distinguished name; the domain's Computers container when null.</param>
/// <param name="ReuseExistingAccount">The policy's "reuse computer object": an existing computer account
/// of this name is reused (its password reset) instead of refused.</param>
public sealed record OfflineJoinRequest(string MachineName, string? OrganizationalUnit, bool ReuseExistingAccount);

/// <summary>Why provisioning failed.</summary>
public enum OfflineJoinFailureReason
{
    None,

    /// <summary>The account may not create or reset the computer account in the OU.</summary>
    AccessDenied,

    /// <summary>The OU does not exist.</summary>
    OrganizationalUnitMissing,

    /// <summary>Another object (or, without reuse, another machine) has the name.</summary>
    NameTaken,

    /// <summary>The machine name is not a valid computer name.</summary>
    InvalidName,

    /// <summary>The domain rejected the connection's credentials.</summary>
    LogonFailure,

    /// <summary>Anything else; the message carries the domain's own words.</summary>
    Other,
}

/// <summary>The outcome of provisioning: the offline join data, or why there is none.</summary>
/// <param name="Data">The offline join file's bytes (UTF-16LE text with a byte order mark, as djoin.exe
/// writes it): a secret. Null on failure.</param>
/// <param name="Failure">Why provisioning failed; None on success.</param>
/// <param name="Message">What happened, in words, for the mapping's report; never contains the data.</param>
public sealed record OfflineJoinResult(byte[]? Data, OfflineJoinFailureReason Failure, string Message)
{
    /// <summary>True when <see cref="Data"/> holds the offline join data.</summary>
    public bool Succeeded => Data is not null;

    /// <summary>A success, from the base64 text of the provisioning data.</summary>
    public static OfflineJoinResult Provisioned(string base64, OfflineJoinRequest request, ActiveDirectoryDomain domain)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(domain);
        return new(OfflineJoinFile.FromBase64Text(base64), OfflineJoinFailureReason.None,
            $"Provisioned '{request.MachineName}' in {domain.DnsName} for offline join.");
    }

    public static OfflineJoinResult Failed(OfflineJoinFailureReason reason, string message) => new(null, reason, message);

    /// <summary>Leaves the data out, so a logged result reveals no secret.</summary>
    public override string ToString() =>
        Succeeded ? $"Offline join data ({Data!.Length} bytes, hidden): {Message}" : $"{Failure}: {Message}";
}
