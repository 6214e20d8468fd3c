namespace Rehome.Directory.Identity;

/// <summary>What kind of security principal an identity is.</summary>
public enum DirectoryIdentityKind
{
    User,
    Group,
}

/// <summary>
/// A user or group of a source or destination directory, as the SID map needs it: the SID that appears in
/// ACLs and profiles, and the names the mapping rules match on (UPN prefix, sAMAccountName, display name).
/// </summary>
/// <param name="Kind">User or group.</param>
/// <param name="Sid">The SID in string form ("S-1-5-21-…"; for Entra ID objects "S-1-12-1-…").</param>
/// <param name="SamAccountName">The pre-Windows 2000 name, when the directory has one.</param>
/// <param name="UserPrincipalName">The UPN, for users that have one.</param>
/// <param name="DisplayName">The display name, or the account name when there is none.</param>
/// <param name="DomainName">The directory the identity belongs to (NetBIOS domain name or tenant domain).</param>
public sealed record DirectoryIdentity(
    DirectoryIdentityKind Kind,
    string Sid,
    string? SamAccountName,
    string? UserPrincipalName,
    string DisplayName,
    string DomainName);

/// <summary>A directory that can list its users and groups for the SID map.</summary>
public interface IDirectoryIdentitySource
{
    /// <summary>Streams every user and group of the directory (paged underneath).</summary>
    IAsyncEnumerable<DirectoryIdentity> ListIdentitiesAsync(CancellationToken cancellationToken = default);
}

/// <summary>Loads identities into lists, which is the form the SID-map builder takes.</summary>
public static class DirectoryIdentityLoader
{
    /// <summary>Reads all identities of <paramref name="source"/> into a list.</summary>
    public static async Task<IReadOnlyList<DirectoryIdentity>> LoadAsync(
        IDirectoryIdentitySource source,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var identities = new List<DirectoryIdentity>();
        await foreach (var identity in source.ListIdentitiesAsync(cancellationToken))
        {
            identities.Add(identity);
        }

        return identities;
    }
}

/// <summary>
/// The identities of a project's two directories at one moment: what the SID map is built from, and what
/// a project caches until it is refreshed.
/// </summary>
/// <param name="Source">Users and groups of the source directory.</param>
/// <param name="Destination">Users and groups of the destination directory.</param>
/// <param name="LoadedAt">When the lists were read.</param>
public sealed record DirectoryIdentitySnapshot(
    IReadOnlyList<DirectoryIdentity> Source,
    IReadOnlyList<DirectoryIdentity> Destination,
    DateTimeOffset LoadedAt)
{
    /// <summary>Reads both directories (at the same time) into a snapshot.</summary>
    public static async Task<DirectoryIdentitySnapshot> LoadAsync(
        IDirectoryIdentitySource source,
        IDirectoryIdentitySource destination,
        TimeProvider? time = null,
        CancellationToken cancellationToken = default)
    {
        var sourceIdentities = DirectoryIdentityLoader.LoadAsync(source, cancellationToken);
        var destinationIdentities = DirectoryIdentityLoader.LoadAsync(destination, cancellationToken);
        return new DirectoryIdentitySnapshot(await sourceIdentities, await destinationIdentities, (time ?? TimeProvider.System).GetUtcNow());
    }
}
