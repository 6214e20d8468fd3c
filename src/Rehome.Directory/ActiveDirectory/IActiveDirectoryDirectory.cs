using Rehome.Directory.Identity;

namespace Rehome.Directory.ActiveDirectory;

/// <summary>
/// One Active Directory domain reached over LDAP: connection test, look-ups, discovery of computers and
/// creation or reuse of computer accounts. Expected outcomes (not found, refused) are results; an
/// unreachable DC is a <see cref="DirectoryUnavailableException"/>; a rejected bind or a missing right is
/// an <see cref="ActiveDirectoryException"/> naming what failed.
/// </summary>
public interface IActiveDirectoryDirectory : IDirectoryIdentitySource
{
    /// <summary>Binds and reads the domain, reporting each check; never throws for a failed check.</summary>
    Task<ConnectionTestResult> TestConnectionAsync(CancellationToken cancellationToken = default);

    /// <summary>Reads the domain: DNS and NetBIOS names, SID, DCs, functional level.</summary>
    Task<ActiveDirectoryDomain> ReadDomainAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Finds a user, group or computer by sAMAccountName ("alice", "PC-01$"), "DOMAIN\name", UPN or SID;
    /// a computer is also found by its name without '$'. Null when there is none.
    /// </summary>
    Task<ActiveDirectoryAccount?> FindAccountAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Streams all accounts of one kind in the domain (or under <paramref name="searchBase"/>), paged.</summary>
    IAsyncEnumerable<ActiveDirectoryAccount> ListAccountsAsync(
        ActiveDirectoryAccountKind kind,
        string? searchBase = null,
        CancellationToken cancellationToken = default);

    /// <summary>Streams the computers under an OU, paged, for creating mappings from discovery.</summary>
    /// <param name="organizationalUnit">The OU's distinguished name.</param>
    /// <param name="includeChildOrganizationalUnits">False to list only the OU's direct children.</param>
    /// <param name="cancellationToken">Stops the listing.</param>
    IAsyncEnumerable<ActiveDirectoryComputer> ListComputersAsync(
        string organizationalUnit,
        bool includeChildOrganizationalUnits = true,
        CancellationToken cancellationToken = default);

    /// <summary>Finds a computer account by computer name; null when there is none.</summary>
    Task<ActiveDirectoryComputer?> FindComputerAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Whether an entry with this distinguished name exists (an OU, for instance).</summary>
    Task<bool> ExistsAsync(string distinguishedName, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates the computer account in the OU, or reuses an existing one when the request allows it;
    /// refuses with a reason when the name is taken, the OU is missing or access is denied.
    /// </summary>
    Task<ComputerAccountResult> EnsureComputerAccountAsync(
        ComputerAccountRequest request,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Sets a computer account's password (LDAP <c>unicodePwd</c>, over LDAPS only: the DC refuses it in clear),
    /// so that a device can join the pre-created account with that password and no directory credential.
    /// A missing right or a password the domain's policy refuses is an <see cref="ActiveDirectoryException"/>;
    /// its message never holds the password.
    /// </summary>
    Task SetComputerPasswordAsync(string distinguishedName, string password, CancellationToken cancellationToken = default);
}

/// <summary>An LDAP operation the DC refused for a reason that retrying will not change.</summary>
public sealed class ActiveDirectoryException : Exception
{
    public ActiveDirectoryException()
    {
    }

    public ActiveDirectoryException(string message)
        : base(message)
    {
    }

    public ActiveDirectoryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
