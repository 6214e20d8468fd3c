using Rehome.Directory.ActiveDirectory;
using Rehome.Directory.EntraId;
using Rehome.Directory.OfflineJoin;

namespace Rehome.Directory;

/// <summary>
/// Creates the directory clients for a connection's options. Connections are data the administrator
/// edits, so the clients are made per connection rather than registered once; register the factory
/// (<c>services.AddSingleton&lt;IDirectoryFactory, DirectoryFactory&gt;()</c>) and ask it for each one.
/// </summary>
public interface IDirectoryFactory
{
    /// <summary>An Active Directory domain over LDAP.</summary>
    IActiveDirectoryDirectory CreateActiveDirectory(ActiveDirectoryConnectionOptions options);

    /// <summary>An Entra ID tenant over Microsoft Graph, with the options' client secret or certificate.</summary>
    IEntraIdDirectory CreateEntraId(EntraIdConnectionOptions options);

    /// <summary>The offline join provisioner of this operating system for a destination domain.</summary>
    /// <param name="destination">The destination domain.</param>
    /// <param name="credential">An account allowed to create computer accounts there.</param>
    /// <param name="domainController">The DC (DNS name) to provision on, so that the accounts are made where the
    /// LDAP checks read; any DC of the domain when null.</param>
    IOfflineJoinProvisioner CreateOfflineJoinProvisioner(IActiveDirectoryDirectory destination, DirectoryCredential credential, string? domainController = null);
}

/// <summary>The platform's implementations: LDAP, Graph, and NetProvisionComputerAccount on Windows or Samba elsewhere.</summary>
/// <param name="samba">Where Samba's net is, for offline join on Linux; defaults when null.</param>
public sealed class DirectoryFactory(SambaOfflineJoinOptions? samba = null) : IDirectoryFactory
{
    public IActiveDirectoryDirectory CreateActiveDirectory(ActiveDirectoryConnectionOptions options) =>
        new LdapActiveDirectoryDirectory(options);

    public IEntraIdDirectory CreateEntraId(EntraIdConnectionOptions options) => new GraphEntraIdDirectory(options);

    public IOfflineJoinProvisioner CreateOfflineJoinProvisioner(IActiveDirectoryDirectory destination, DirectoryCredential credential, string? domainController = null) =>
        OperatingSystem.IsWindows()
            ? new WindowsOfflineJoinProvisioner(destination, credential, domainController ?? samba?.DomainController)
            : new SambaOfflineJoinProvisioner(destination, credential,
                (samba ?? new SambaOfflineJoinOptions()) with { DomainController = domainController ?? samba?.DomainController });
}
