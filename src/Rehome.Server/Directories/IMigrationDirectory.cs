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

    Task<DirectoryActionAnswer> RunActionAsync(Project project, Mapping mapping, DirectoryActionRequest request, CancellationToken ct);
}

/// <summary>The readiness of a mapping's destination computer, in words.</summary>
public sealed record DestinationCheck(bool Ready, string Detail);

/// <summary>A rejoin job's destination side to prepare (<see cref="Guid.Empty"/> as the job for a check).</summary>
public sealed record DestinationRequest(Guid JobId, Mapping Mapping, Project Project, Connection Destination, PolicySettings Policy);

/// <summary>The outcome of a destination preparation.</summary>
public sealed record DestinationPreparation(bool Ready, string? ProvisioningData, string? FailureCode, string? FailureMessage)
{
    public static DestinationPreparation Prepared(string? provisioningData) => new(true, provisioningData, null, null);

    public static DestinationPreparation Failed(string code, string message) => new(false, null, code, message);

    public static DestinationPreparation NotYet { get; } = new(false, null, null, null);
}
