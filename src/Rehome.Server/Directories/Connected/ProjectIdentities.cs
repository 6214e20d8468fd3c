using System.Collections.Concurrent;
using System.Text.Json;
using Rehome.Core.Connections;
using Rehome.Core.Policies;
using Rehome.Directory.Identity;
using Rehome.Protocol;
using Rehome.Security.Reacl;
using Rehome.Security.Sids;
using ReaclIdentity = Rehome.Security.Reacl.DirectoryIdentity;

namespace Rehome.Server.Directories.Connected;

/// <summary>
/// The users and groups of each project's source and destination directories, read once (paged) and kept
/// for <see cref="ConnectedDirectoryOptions.IdentityCacheLifetime"/> or until refreshed, so thousands of
/// devices asking for their SID maps cost no directory round trips. An edited connection is read again.
/// </summary>
public sealed class ProjectIdentities(DirectoryClients clients, ConnectedDirectoryOptions options, TimeProvider time)
{
    private readonly ConcurrentDictionary<Guid, Lazy<Task<LoadedIdentities>>> loaded = new();

    /// <summary>The project's identities, read now if they are missing, stale or of an older connection.</summary>
    public async Task<LoadedIdentities> GetAsync(Guid projectId, Connection source, Connection destination, CancellationToken ct)
    {
        // Lazy: of several callers only the one whose value is stored starts a read; the others wait for it.
        var identities = await AwaitAsync(projectId, loaded.GetOrAdd(projectId, _ => Load(source, destination)), ct);
        var current = identities.SourceVersion == source.UpdatedAt && identities.DestinationVersion == destination.UpdatedAt
            && time.GetUtcNow() - identities.LoadedAt < options.IdentityCacheLifetime;
        if (current)
        {
            return identities;
        }
        // Stale: one caller puts the new read in place, the others wait for it.
        var reload = Load(source, destination);
        return await AwaitAsync(projectId, loaded.AddOrUpdate(projectId, reload,
            (_, held) => held.IsValueCreated && held.Value.IsCompleted ? reload : held), ct);
    }

    private Lazy<Task<LoadedIdentities>> Load(Connection source, Connection destination) => new(() => LoadAsync(source, destination));

    private async Task<LoadedIdentities> AwaitAsync(Guid projectId, Lazy<Task<LoadedIdentities>> held, CancellationToken ct)
    {
        var task = held.Value;
        try
        {
            return await task.WaitAsync(ct);
        }
        catch (Exception) when (task.IsFaulted)
        {
            // A failed read is not kept: the next request reads again.
            loaded.TryRemove(new KeyValuePair<Guid, Lazy<Task<LoadedIdentities>>>(projectId, held));
            throw;
        }
    }

    /// <summary>Reads the project's directories again now.</summary>
    public async Task<LoadedIdentities> RefreshAsync(Guid projectId, Connection source, Connection destination, CancellationToken ct)
    {
        loaded.TryRemove(projectId, out _);
        return await GetAsync(projectId, source, destination, ct);
    }

    /// <summary>What is held for a project, without reading anything.</summary>
    public LoadedIdentities? Peek(Guid projectId) =>
        loaded.TryGetValue(projectId, out var held) && held.IsValueCreated && held.Value.IsCompletedSuccessfully ? held.Value.Result : null;

    private Task<LoadedIdentities> LoadAsync(Connection source, Connection destination) => Task.Run(async () =>
    {
        // Not the caller's token: other requests may be waiting for the same read.
        var snapshot = await DirectoryIdentitySnapshot.LoadAsync(Source(source), Source(destination), time, CancellationToken.None);
        return new LoadedIdentities(Convert(snapshot.Source), Convert(snapshot.Destination), snapshot.LoadedAt, source.UpdatedAt, destination.UpdatedAt);
    });

    /// <summary>A connection's domain when it has one the server can reach, else its tenant.</summary>
    private IDirectoryIdentitySource Source(Connection connection) =>
        DirectoryClients.ActiveDirectoryGap(connection) is null ? clients.ActiveDirectory(connection)
        : connection.Kind == ConnectionKind.EntraId && DirectoryClients.EntraIdGap(connection) is null ? clients.EntraId(connection)
        : throw new DirectoryNotConfiguredException(DirectoryClients.ActiveDirectoryGap(connection) ?? DirectoryClients.EntraIdGap(connection) ?? "The connection is not complete.");

    /// <summary>A domain account (S-1-5-21-…) or an Entra ID object (S-1-12-1-…).</summary>
    public static bool IsAccountSid(string sid) =>
        sid.StartsWith("S-1-5-21-", StringComparison.Ordinal) || sid.StartsWith("S-1-12-1-", StringComparison.Ordinal);

    private static List<ReaclIdentity> Convert(IReadOnlyList<Rehome.Directory.Identity.DirectoryIdentity> identities)
    {
        var converted = new List<ReaclIdentity>(identities.Count);
        foreach (var identity in identities)
        {
            // Built-in and well-known principals (BUILTIN\\Administrators, Everyone) are the same SID in every
            // domain and stay as they are; only domain and Entra ID accounts move.
            if (SecurityIdentifier.TryParse(identity.Sid, out var sid) && IsAccountSid(identity.Sid))
            {
                converted.Add(new ReaclIdentity(sid!, identity.SamAccountName ?? identity.DisplayName, identity.UserPrincipalName,
                    identity.Kind == DirectoryIdentityKind.Group ? IdentityKind.Group : IdentityKind.User, identity.DomainName));
            }
        }
        return converted;
    }
}

/// <summary>What is held of a project's directory identities, and how many map with its policy.</summary>
public sealed record ProjectIdentitiesView(bool Loaded, DateTimeOffset? LoadedAt, int SourceUsers, int SourceGroups, int DestinationUsers, int DestinationGroups,
    int Mapped, int Unmapped, IReadOnlyList<string> Problems);

/// <summary>One read of a project's two directories, and the SID maps built from it for each policy seen.</summary>
public sealed class LoadedIdentities(
    IReadOnlyList<ReaclIdentity> source, IReadOnlyList<ReaclIdentity> destination, DateTimeOffset loadedAt,
    DateTimeOffset sourceVersion, DateTimeOffset destinationVersion)
{
    private readonly ConcurrentDictionary<string, IdentityMappingResult> maps = new();
    private readonly Dictionary<SecurityIdentifier, ReaclIdentity> sourceBySid = source.DistinctBy(i => i.Sid).ToDictionary(i => i.Sid);

    public IReadOnlyList<ReaclIdentity> Source { get; } = source;

    public IReadOnlyList<ReaclIdentity> Destination { get; } = destination;

    public DateTimeOffset LoadedAt { get; } = loadedAt;

    public DateTimeOffset SourceVersion { get; } = sourceVersion;

    public DateTimeOffset DestinationVersion { get; } = destinationVersion;

    /// <summary>The SID map of a policy's identity rules (built once per distinct rules).</summary>
    public IdentityMappingResult MapFor(PolicySettings policy) =>
        maps.GetOrAdd(JsonSerializer.Serialize(policy.IdentityMapping), _ => IdentityMapper.Build(IdentityPolicy.From(policy.IdentityMapping), Source, Destination));

    /// <summary>The destination SID of each SID, or why there is none.</summary>
    public SidMapAnswer Answer(PolicySettings policy, IEnumerable<SecurityIdentifier> sids)
    {
        var result = MapFor(policy);
        var reasons = result.Unmapped.DistinctBy(u => u.Sid).ToDictionary(u => u.Sid, u => $"{u.Name}: {u.Reason}");
        var pairs = new List<SidPair>();
        var unmapped = new List<UnmappedSid>();
        foreach (var sid in sids.Distinct())
        {
            if (result.Map.TryGetDestination(sid, out var destination))
            {
                pairs.Add(new SidPair(sid.ToString(), destination.ToString()));
            }
            else
            {
                unmapped.Add(new UnmappedSid(sid.ToString(), reasons.GetValueOrDefault(sid)
                    ?? (sourceBySid.ContainsKey(sid) ? "No rule of the policy maps it." : "Not found in the source directory.")));
            }
        }
        return new SidMapAnswer(pairs, unmapped);
    }
}
