using Rehome.Core.Connections;
using Rehome.Core.Mappings;
using Rehome.Core.Policies;
using Rehome.Core.Projects;
using Rehome.Protocol;
using Rehome.Security.Sids;

namespace Rehome.Server.Directories;

/// <summary>
/// What the server does in the source and destination directories for a run: prepare the destination before
/// a rejoin, turn the device's source SIDs into destination SIDs, and act for the device where it holds no
/// credentials (Entra ID groups, Autopilot). The server holds the connections' secrets; agents never do.
/// </summary>
public interface IMigrationDirectory
{
    /// <summary>
    /// Creates (or reuses, as the policy says) the destination computer object and makes the offline join data.
    /// <see cref="DestinationPreparation.NotYet"/> leaves the job waiting (no directory connected yet).
    /// </summary>
    Task<DestinationPreparation> PrepareDestinationAsync(DestinationRequest request, CancellationToken ct);

    /// <summary>Whether the destination could be prepared now (name free or reusable, OU present), changing nothing.</summary>
    Task<DestinationCheck> CheckDestinationAsync(DestinationRequest request, CancellationToken ct);

    Task<SidMapAnswer> MapSidsAsync(Project project, PolicySettings policy, IReadOnlyList<SecurityIdentifier> sids, CancellationToken ct);

    /// <summary>
    /// Acts in a directory for the job <paramref name="jobId"/> whose lease the request's token holds (what the action
    /// keeps between the agent's asks, an Autopilot import still processing, is kept on that job's row).
    /// </summary>
    Task<DirectoryActionAnswer> RunActionAsync(Guid jobId, Project project, Mapping mapping, DirectoryActionRequest request, CancellationToken ct);

    /// <summary>
    /// Makes the return ticket of a rejoin: offline join data that puts the device back into its source Active
    /// Directory domain under its existing computer account. Making it resets that account's password, so it is
    /// made only when the device is about to leave its source. An unreachable domain throws
    /// <see cref="Rehome.Directory.DirectoryUnavailableException"/>; anything retrying will not change is
    /// <see cref="ReturnTicket.Unavailable"/> with what the administrator must do.
    /// </summary>
    Task<ReturnTicket> MakeReturnTicketAsync(ReturnTicketRequirement request, CancellationToken ct);
}

/// <summary>A rejoin's way back: the device's source computer account in the source connection's domain.</summary>
public sealed record ReturnTicketRequirement(Guid JobId, Mapping Mapping, Connection Source);

/// <summary>The offline join data of a return ticket (base64, a secret), or why there is none.</summary>
public sealed record ReturnTicket(string? ProvisioningData, string? FailureMessage)
{
    public static ReturnTicket Made(string provisioningData) => new(provisioningData, null);

    public static ReturnTicket Unavailable(string message) => new(null, message);

    /// <summary>Never printed: the join data is a secret.</summary>
    public override string ToString() => ProvisioningData is null ? $"No return ticket: {FailureMessage}" : "Return ticket (hidden)";
}

/// <summary>The readiness of a mapping's destination computer, in words.</summary>
public sealed record DestinationCheck(bool Ready, string Detail);

/// <summary>A rejoin job's destination side to prepare (<see cref="Guid.Empty"/> as the job for a check).</summary>
public sealed record DestinationRequest(Guid JobId, Mapping Mapping, Project Project, Connection Destination, PolicySettings Policy);

/// <summary>The outcome of a destination preparation.</summary>
/// <param name="Ready">The destination is prepared.</param>
/// <param name="ProvisioningData">Offline: the join data (base64). Online Active Directory: the computer account's
/// one-time password. A secret either way, stored encrypted on the job.</param>
/// <param name="FailureCode">Why it failed, stable.</param>
/// <param name="FailureMessage">Why it failed, in words.</param>
public sealed record DestinationPreparation(bool Ready, string? ProvisioningData, string? FailureCode, string? FailureMessage)
{
    public static DestinationPreparation Prepared(string? provisioningData) => new(true, provisioningData, null, null);

    public static DestinationPreparation Failed(string code, string message) => new(false, null, code, message);

    public static DestinationPreparation NotYet { get; } = new(false, null, null, null);

    /// <summary>Never printed: the join data or password is a secret.</summary>
    public override string ToString() => Ready ? "Prepared (join data hidden)" : $"Not prepared: {FailureCode} {FailureMessage}";
}
