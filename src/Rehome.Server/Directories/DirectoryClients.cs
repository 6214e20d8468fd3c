using System.Collections.Concurrent;
using Rehome.Core.Connections;
using Rehome.Directory;
using Rehome.Directory.ActiveDirectory;
using Rehome.Directory.EntraId;
using Rehome.Directory.OfflineJoin;
using Rehome.Server.Directories.Connected;
using Rehome.Server.Secrets;

namespace Rehome.Server.Directories;

/// <summary>
/// Turns a stored connection into clients of its real directories (LDAP, Graph, offline join), with its
/// secrets decrypted only here. Clients are kept per connection version: an edited connection gets new ones.
/// </summary>
public sealed class DirectoryClients(IDirectoryFactory factory, SecretProtector secrets, ConnectedDirectoryOptions options) : IDisposable
{
    private readonly ConcurrentDictionary<(Guid, DateTimeOffset), Lazy<IActiveDirectoryDirectory>> activeDirectories = new();
    private readonly ConcurrentDictionary<(Guid, DateTimeOffset), Lazy<IEntraIdDirectory>> entraIds = new();

    /// <summary>Why the server cannot reach the connection's domain, or null when it can.</summary>
    public static string? ActiveDirectoryGap(Connection connection) =>
        connection.Kind == ConnectionKind.EntraId ? $"'{connection.Name}' is an Entra ID connection: it has no Active Directory domain."
        : connection.DomainController is null ? $"'{connection.Name}' names no domain controller: set one so the server can reach the domain."
        : connection.ServiceAccountName is null || connection.ServiceAccountPasswordProtected is null
            ? $"'{connection.Name}' has no service account (name and password) for the server to bind with."
        : null;

    /// <summary>Why the server cannot reach the connection's tenant, or null when it can.</summary>
    public static string? EntraIdGap(Connection connection) =>
        connection.EntraTenantId is null || connection.EntraClientId is null || connection.EntraClientSecretProtected is null
            ? $"'{connection.Name}' has no Entra ID part (tenant, client id and secret)."
            : !connection.EntraEnabled ? $"The Entra ID part of '{connection.Name}' is not enabled." : null;

    /// <summary>The connection's domain over LDAP.</summary>
    /// <exception cref="DirectoryNotConfiguredException">The connection cannot reach a domain (<see cref="ActiveDirectoryGap"/>).</exception>
    public IActiveDirectoryDirectory ActiveDirectory(Connection connection)
    {
        if (ActiveDirectoryGap(connection) is { } gap)
        {
            throw new DirectoryNotConfiguredException(gap);
        }
        return activeDirectories.GetOrAdd((connection.Id, connection.UpdatedAt), _ =>
        {
            Evict(activeDirectories, connection.Id);
            return new Lazy<IActiveDirectoryDirectory>(() => factory.CreateActiveDirectory(new ActiveDirectoryConnectionOptions
            {
                Server = connection.DomainController!,
                UseLdaps = connection.UseLdaps,
                TrustedCertificatesDirectory = options.TrustedCertificatesDirectory,
                Credential = Credential(connection),
            }));
        }).Value;
    }

    /// <summary>The connection's tenant over Graph.</summary>
    /// <exception cref="DirectoryNotConfiguredException">The connection has no usable Entra ID part (<see cref="EntraIdGap"/>).</exception>
    public IEntraIdDirectory EntraId(Connection connection)
    {
        if (EntraIdGap(connection) is { } gap)
        {
            throw new DirectoryNotConfiguredException(gap);
        }
        return entraIds.GetOrAdd((connection.Id, connection.UpdatedAt), _ =>
        {
            Evict(entraIds, connection.Id);
            return new Lazy<IEntraIdDirectory>(() => factory.CreateEntraId(new EntraIdConnectionOptions
            {
                TenantId = connection.EntraTenantId!,
                ClientId = connection.EntraClientId!,
                ClientSecret = secrets.Unprotect(connection.EntraClientSecretProtected!),
                GraphBaseUrl = options.GraphBaseUrl,
                AutopilotImportWait = options.AutopilotImportWait,
                AutopilotPollInterval = options.AutopilotPollInterval,
            }));
        }).Value;
    }

    /// <summary>What makes offline join data for the connection's domain, on the connection's DC when it names one by DNS name.</summary>
    public IOfflineJoinProvisioner OfflineJoin(Connection connection) =>
        factory.CreateOfflineJoinProvisioner(ActiveDirectory(connection), Credential(connection),
            System.Net.IPAddress.TryParse(connection.DomainController, out _) ? null : connection.DomainController);

    private DirectoryCredential Credential(Connection connection) =>
        new(connection.ServiceAccountName!, secrets.Unprotect(connection.ServiceAccountPasswordProtected!));

    /// <summary>
    /// Drops the clients of earlier versions of a connection. They are not disposed here: a request may still be
    /// using one; their connections close when they are collected.
    /// </summary>
    private static void Evict<T>(ConcurrentDictionary<(Guid, DateTimeOffset), Lazy<T>> clients, Guid connectionId)
    {
        foreach (var key in clients.Keys.Where(k => k.Item1 == connectionId))
        {
            clients.TryRemove(key, out _);
        }
    }

    public void Dispose()
    {
        DisposeAll(activeDirectories);
        DisposeAll(entraIds);
    }

    private static void DisposeAll<T>(ConcurrentDictionary<(Guid, DateTimeOffset), Lazy<T>> clients)
    {
        foreach (var client in clients.Values.Where(c => c.IsValueCreated).Select(c => c.Value).OfType<IDisposable>())
        {
            client.Dispose();
        }
        clients.Clear();
    }
}

/// <summary>A connection lacks what the server needs to reach its directory (a DC, an account, an Entra ID part): retrying will not help.</summary>
public sealed class DirectoryNotConfiguredException(string message) : InvalidOperationException(message);
