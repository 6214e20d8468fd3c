using Rehome.Core.Mappings;
using Rehome.Core.Policies;
using Rehome.Core.Projects;
using Rehome.Protocol;
using Rehome.Security.Sids;

namespace Rehome.Server.Directories;

/// <summary>
/// The directory when none is configured (Rehome:Directories:Mode = None): rejoins keep waiting for their
/// destination, identities stay unmapped and directory actions fail, each saying why. Nothing is invented.
/// </summary>
public sealed class NotConnectedDirectory : IMigrationDirectory
{
    private const string Why = "No directory is connected to this server (Rehome:Directories:Mode is None).";

    public Task<DestinationPreparation> PrepareDestinationAsync(DestinationRequest request, CancellationToken ct) =>
        Task.FromResult(DestinationPreparation.NotYet);

    public Task<DestinationCheck> CheckDestinationAsync(DestinationRequest request, CancellationToken ct) =>
        Task.FromResult(new DestinationCheck(false, Why));

    public Task<SidMapAnswer> MapSidsAsync(Project project, PolicySettings policy, IReadOnlyList<SecurityIdentifier> sids, CancellationToken ct) =>
        Task.FromResult(new SidMapAnswer([], [.. sids.Select(s => new UnmappedSid(s.ToString(), Why))]));

    public Task<DirectoryActionAnswer> RunActionAsync(Guid jobId, Project project, Mapping mapping, DirectoryActionRequest request, CancellationToken ct) =>
        Task.FromResult(new DirectoryActionAnswer(DirectoryActionState.Failed, Why, []));

    public Task<ReturnTicket> MakeReturnTicketAsync(ReturnTicketRequirement request, CancellationToken ct) =>
        Task.FromResult(ReturnTicket.Unavailable($"{Why} Connect the server to the source domain (Connected mode, with the source connection's domain controller and service account) so that it can make return tickets."));
}
