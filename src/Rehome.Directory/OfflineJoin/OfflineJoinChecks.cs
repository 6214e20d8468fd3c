using Rehome.Directory.ActiveDirectory;

namespace Rehome.Directory.OfflineJoin;

/// <summary>
/// The checks made over LDAP before provisioning, so that every provisioner refuses a bad request the same
/// way and before anything changes: valid name, OU present, name free or reusable.
/// </summary>
internal static class OfflineJoinChecks
{
    /// <summary>The destination domain, and the refusal when the request cannot be provisioned.</summary>
    public static async Task<(OfflineJoinResult? Refusal, ActiveDirectoryDomain Domain)> CheckAsync(
        IActiveDirectoryDirectory destination,
        OfflineJoinRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var domain = await destination.ReadDomainAsync(cancellationToken);
        return (await RefuseAsync(destination, request, cancellationToken), domain);
    }

    private static async Task<OfflineJoinResult?> RefuseAsync(
        IActiveDirectoryDirectory destination,
        OfflineJoinRequest request,
        CancellationToken cancellationToken)
    {
        if (!ComputerName.IsValid(request.MachineName))
        {
            return OfflineJoinResult.Failed(OfflineJoinFailureReason.InvalidName,
                $"'{Shown(request.MachineName)}' is not a valid computer name: {ComputerName.Rule}.");
        }

        if (request.OrganizationalUnit is { } organizationalUnit && !await destination.ExistsAsync(organizationalUnit, cancellationToken))
        {
            return OfflineJoinResult.Failed(OfflineJoinFailureReason.OrganizationalUnitMissing,
                $"The organizational unit '{Shown(organizationalUnit)}' does not exist in the destination domain.");
        }

        // Samba resets an existing account's password instead of refusing the name, so ask first.
        var holder = await destination.FindAccountAsync(request.MachineName + "$", cancellationToken)
            ?? await destination.FindAccountAsync(request.MachineName, cancellationToken);
        if (holder is null)
        {
            return null;
        }

        if (holder.Kind != ActiveDirectoryAccountKind.Computer)
        {
            return OfflineJoinResult.Failed(OfflineJoinFailureReason.NameTaken,
                $"The name '{request.MachineName}' is taken by the {holder.Kind.ToString().ToLowerInvariant()} '{holder.DistinguishedName}'.");
        }

        return request.ReuseExistingAccount
            ? null
            : OfflineJoinResult.Failed(OfflineJoinFailureReason.NameTaken,
                $"The name '{request.MachineName}' is taken by another machine's account '{holder.DistinguishedName}' "
                + "and the policy does not reuse computer objects.");
    }

    /// <summary>
    /// Text from the request as a refusal may show it: control and bidirectional characters (which rewrite a terminal
    /// or a page) and unpaired surrogates as their code (<c>\u001B</c>). The refusal reaches logs and job errors.
    /// </summary>
    private static string Shown(string? text) => string.Concat((text ?? "").Select(c =>
        char.IsControl(c) || char.IsSurrogate(c) || c is (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069') or '\u200E' or '\u200F' or '\u061C'
            ? $"\\u{(int)c:X4}"
            : c.ToString()));
}
