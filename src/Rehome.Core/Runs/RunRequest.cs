using Rehome.Core.Connections;

namespace Rehome.Core.Runs;

/// <summary>
/// What the administrator asked for: these mappings × these job kinds, now or at <see cref="StartAt"/>; with
/// <see cref="DryRun"/>, a preview that counts what the permissions and profile jobs would change.
/// </summary>
public sealed record RunRequest(IReadOnlyList<Guid> MappingIds, IReadOnlyList<JobKind> Kinds, DateTimeOffset? StartAt, bool DryRun = false);

/// <summary>The facts about a project that the run rules look at.</summary>
public sealed record ProjectFacts(
    bool SourceEntraIdEnabled,
    ConnectionKind DestinationKind,
    RejoinMethod DestinationRejoinMethod,
    bool DestinationNeedsPreparation);

/// <summary>The facts about one mapping that the run rules look at.</summary>
public sealed record MappingFacts(
    Guid Id,
    string SourceDevice,
    bool HasPrimaryUsers,
    bool HasRejoined,
    IReadOnlySet<JobKind> ActiveKinds);
