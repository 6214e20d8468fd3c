using Rehome.Core.Connections;
using Rehome.Protocol;
using Rehome.Server.Directories;

namespace Rehome.Server.Gateway;

/// <summary>
/// Makes a rejoin's return ticket, the moment its device is about to leave its source: the join data that puts
/// the device back into its source under its source name. Active Directory and Hybrid Identity sources: offline
/// join data for the device's existing computer account (made by the directory, which resets the account's
/// password, so never earlier). Entra ID sources: the source tenant's bulk enrollment package, which the agent
/// downloads with its lease.
/// </summary>
public sealed class ReturnTickets(IMigrationDirectory directory)
{
    /// <summary>
    /// The ticket, or why there is none in words that say what the administrator must configure. An unreachable
    /// directory throws (<see cref="Rehome.Directory.DirectoryUnavailableException"/>), for the caller's back-off.
    /// </summary>
    public async Task<(DestinationJoin? Ticket, string? Refusal)> MakeAsync(
        Guid jobId, Core.Mappings.Mapping mapping, Connection source, string computerName, CancellationToken ct)
    {
        if (source.Kind == ConnectionKind.EntraId)
        {
            return source.BulkEnrollmentPackageBytes is { } bytes
                ? (Ticket(source, computerName) with { PackageBytes = bytes }, null)
                : (null, PackageGap(source)!);
        }
        var made = await directory.MakeReturnTicketAsync(new ReturnTicketRequirement(jobId, mapping, source), ct);
        return made.ProvisioningData is { } data
            ? (Ticket(source, computerName) with { ProvisioningData = data }, null)
            : (null, made.FailureMessage);
    }

    /// <summary>Why an Entra ID connection cannot give devices its provisioning package, or null when it can.</summary>
    public static string? PackageGap(Connection connection) => connection.BulkEnrollmentPackageBytes is not null ? null
        : $"The {connection.Role.ToString().ToLowerInvariant()} connection '{connection.Name}' has no bulk enrollment provisioning package: "
            + "upload its tenant's .ppkg (on the connection's page, or PUT /api/v1/connections/{id}/bulk-enrollment-package).";

    /// <summary>
    /// Why the server could not make return tickets into <paramref name="source"/>, as far as the configuration
    /// shows (the directory itself is asked only when a device leaves), or null.
    /// </summary>
    public static string? Gap(Connection source, IMigrationDirectory directory) =>
        source.Kind == ConnectionKind.EntraId ? PackageGap(source)
        : directory is NotConnectedDirectory ? "No directory is connected to this server: it cannot make the return tickets that take devices back into their source."
        : directory is Directories.Connected.ConnectedDirectory ? DirectoryClients.ActiveDirectoryGap(source)
        : null;

    private static DestinationJoin Ticket(Connection source, string computerName) => new()
    {
        Kind = AssignmentBuilder.KindOf(source),
        Offline = true,
        DomainDnsName = source.Kind == ConnectionKind.EntraId ? null : source.DomainDnsName,
        TenantId = source.EntraTenantId,
        ComputerName = computerName,
    };
}
