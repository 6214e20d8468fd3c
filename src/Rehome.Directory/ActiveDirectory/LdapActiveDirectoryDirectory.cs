using System.DirectoryServices.Protocols;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using Rehome.Directory.Identity;

namespace Rehome.Directory.ActiveDirectory;

/// <summary>
/// <see cref="IActiveDirectoryDirectory"/> over LDAP with System.DirectoryServices.Protocols, on Windows and
/// Linux (libldap). One instance holds one bound connection, opened on first use and reopened once when the
/// DC dropped it; it is safe to use from several threads.
/// </summary>
public sealed class LdapActiveDirectoryDirectory : IActiveDirectoryDirectory, IDisposable
{
    // userAccountControl bits (MS-ADTS 2.2.16).
    private const int AccountDisabled = 0x2;
    private const int PasswordNotRequired = 0x20;
    private const int WorkstationTrustAccount = 0x1000;
    private const int ServerTrustAccount = 0x2000;

    private static readonly string[] AccountAttributes =
        ["objectClass", "distinguishedName", "objectSid", "sAMAccountName", "userPrincipalName", "displayName", "cn", "objectGUID"];

    private static readonly string[] ComputerAttributes =
        ["distinguishedName", "objectSid", "sAMAccountName", "dNSHostName", "operatingSystem", "userAccountControl", "objectGUID"];

    private readonly ActiveDirectoryConnectionOptions options;
    private readonly SemaphoreSlim connectGate = new(1, 1);
    private LdapConnection? connection;
    private string? baseDistinguishedName;
    private ActiveDirectoryDomain? domain;

    /// <summary>Creates the directory; nothing is contacted until the first call.</summary>
    /// <exception cref="ArgumentException">The options are not usable; the message says why.</exception>
    public LdapActiveDirectoryDirectory(ActiveDirectoryConnectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problem = options.Validate();
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        this.options = options;
        baseDistinguishedName = options.BaseDistinguishedName;
    }

    /// <summary>The options this directory connects with.</summary>
    public ActiveDirectoryConnectionOptions Options => options;

    public async Task<ConnectionTestResult> TestConnectionAsync(CancellationToken cancellationToken = default)
    {
        var checks = new List<ConnectionCheck>();
        var transport = options.UseLdaps ? "LDAPS" : "LDAP";
        var account = options.Credential?.UserName ?? "the Kerberos ticket";
        if (!await RunCheckAsync(checks, "Bind", async () =>
        {
            await GetConnectionAsync(cancellationToken);
            return $"Bound to {options.Server}:{options.EffectivePort} over {transport} as {account}.";
        }))
        {
            return new ConnectionTestResult(checks);
        }

        RootDse? root = null;
        if (!await RunCheckAsync(checks, "Domain partition", async () =>
        {
            root = await ReadRootDseAsync(cancellationToken);
            return $"{root.DefaultNamingContext}, answered by {root.DnsHostName}.";
        }))
        {
            return new ConnectionTestResult(checks);
        }

        await RunCheckAsync(checks, "Domain SID", async () => await ReadDomainSidAsync(root!.DefaultNamingContext, cancellationToken));
        await RunCheckAsync(checks, "NetBIOS name", async () =>
        {
            var (netBiosName, dnsName) = await ReadCrossReferenceAsync(root!, cancellationToken);
            return $"{netBiosName} ({dnsName}).";
        });
        await RunCheckAsync(checks, "Domain controllers", async () =>
        {
            var controllers = await ReadDomainControllersAsync(root!.DefaultNamingContext, cancellationToken);
            return controllers.Count == 0
                ? throw new ActiveDirectoryException("No domain controller accounts were found.")
                : string.Join(", ", controllers);
        });
        await RunCheckAsync(checks, "Functional level", () => Task.FromResult(FunctionalLevelName(root!.DomainFunctionality)));
        return new ConnectionTestResult(checks);
    }

    public async Task<ActiveDirectoryDomain> ReadDomainAsync(CancellationToken cancellationToken = default)
    {
        if (domain is not null)
        {
            return domain;
        }

        var root = await ReadRootDseAsync(cancellationToken);
        var sid = await ReadDomainSidAsync(root.DefaultNamingContext, cancellationToken);
        var (netBiosName, dnsName) = await ReadCrossReferenceAsync(root, cancellationToken);
        var controllers = await ReadDomainControllersAsync(root.DefaultNamingContext, cancellationToken);
        domain = new ActiveDirectoryDomain(
            dnsName,
            netBiosName,
            root.DefaultNamingContext,
            sid,
            controllers,
            FunctionalLevelName(root.DomainFunctionality),
            root.DnsHostName);
        return domain;
    }

    public async Task<ActiveDirectoryAccount?> FindAccountAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var filter = AccountFilter(name.Trim());
        var baseDn = await GetBaseDistinguishedNameAsync(cancellationToken);
        await foreach (var entry in SearchAsync(baseDn, filter, SearchScope.Subtree, AccountAttributes, cancellationToken))
        {
            return ToAccount(entry);
        }

        return null;
    }

    public async IAsyncEnumerable<ActiveDirectoryAccount> ListAccountsAsync(
        ActiveDirectoryAccountKind kind,
        string? searchBase = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var filter = kind switch
        {
            ActiveDirectoryAccountKind.User => "(&(objectCategory=person)(objectClass=user))",
            ActiveDirectoryAccountKind.Group => "(objectClass=group)",
            _ => "(objectClass=computer)",
        };
        var baseDn = searchBase ?? await GetBaseDistinguishedNameAsync(cancellationToken);
        await foreach (var entry in SearchAsync(baseDn, filter, SearchScope.Subtree, AccountAttributes, cancellationToken))
        {
            yield return ToAccount(entry);
        }
    }

    public async IAsyncEnumerable<ActiveDirectoryComputer> ListComputersAsync(
        string organizationalUnit,
        bool includeChildOrganizationalUnits = true,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(organizationalUnit);
        if (!await ExistsAsync(organizationalUnit, cancellationToken))
        {
            throw new ActiveDirectoryException($"The organizational unit '{organizationalUnit}' does not exist.");
        }

        var scope = includeChildOrganizationalUnits ? SearchScope.Subtree : SearchScope.OneLevel;
        await foreach (var entry in SearchAsync(organizationalUnit, "(objectClass=computer)", scope, ComputerAttributes, cancellationToken))
        {
            yield return ToComputer(entry);
        }
    }

    public async Task<ActiveDirectoryComputer?> FindComputerAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var accountName = name.EndsWith('$') ? name : name + "$";
        var baseDn = await GetBaseDistinguishedNameAsync(cancellationToken);
        var filter = $"(&(objectClass=computer)(sAMAccountName={LdapFilter.Escape(accountName)}))";
        await foreach (var entry in SearchAsync(baseDn, filter, SearchScope.Subtree, ComputerAttributes, cancellationToken))
        {
            return ToComputer(entry);
        }

        return null;
    }

    public async Task<bool> ExistsAsync(string distinguishedName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(distinguishedName);
        try
        {
            var response = await SearchBaseAsync(distinguishedName, ["distinguishedName"], cancellationToken);
            return response is not null;
        }
        catch (DirectoryOperationException exception) when (exception.Response?.ResultCode == ResultCode.InvalidDNSyntax)
        {
            return false;
        }
    }

    public async Task<ComputerAccountResult> EnsureComputerAccountAsync(
        ComputerAccountRequest request,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!ComputerName.IsValid(request.Name))
        {
            return Refuse(ComputerAccountRefusal.InvalidName,
                $"'{request.Name}' is not a valid computer name: {ComputerName.Rule}.");
        }

        if (!await ExistsAsync(request.OrganizationalUnit, cancellationToken))
        {
            return Refuse(ComputerAccountRefusal.OrganizationalUnitMissing,
                $"The organizational unit '{request.OrganizationalUnit}' does not exist in the destination domain.");
        }

        var taken = await FindNameHolderAsync(request, cancellationToken);
        if (taken is not null)
        {
            return taken;
        }

        var distinguishedName = $"CN={request.Name},{request.OrganizationalUnit}";
        var dnsDomain = (await ReadDomainAsync(cancellationToken)).DnsName;
        var add = new AddRequest(
            distinguishedName,
            new DirectoryAttribute("objectClass", "computer"),
            new DirectoryAttribute("sAMAccountName", request.Name + "$"),
            new DirectoryAttribute("dNSHostName", $"{request.Name.ToLowerInvariant()}.{dnsDomain}"),
            // A pre-staged workstation account: the join (online or offline) sets its password.
            new DirectoryAttribute("userAccountControl",
                (WorkstationTrustAccount | PasswordNotRequired).ToString(CultureInfo.InvariantCulture)));
        try
        {
            await SendAsync(add, cancellationToken);
        }
        catch (DirectoryOperationException exception) when (exception.Response?.ResultCode == ResultCode.InsufficientAccessRights)
        {
            return Refuse(ComputerAccountRefusal.AccessDenied,
                $"The connection's account may not create computer accounts in '{request.OrganizationalUnit}'.");
        }
        catch (DirectoryOperationException exception) when (exception.Response?.ResultCode == ResultCode.EntryAlreadyExists)
        {
            // Created by someone else between the check and the add: report who holds the name now.
            return await FindNameHolderAsync(request, cancellationToken)
                ?? Refuse(ComputerAccountRefusal.NameTakenByOtherObject, $"'{distinguishedName}' already exists.");
        }

        var created = await FindComputerAsync(request.Name, cancellationToken)
            ?? throw new ActiveDirectoryException($"The computer account '{distinguishedName}' was created but cannot be read back.");
        return new ComputerAccountResult(ComputerAccountOutcome.Created, created, ComputerAccountRefusal.None,
            $"Created the computer account '{created.DistinguishedName}'.");
    }

    public async Task SetComputerPasswordAsync(string distinguishedName, string password, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(distinguishedName);
        ArgumentException.ThrowIfNullOrEmpty(password);
        if (!options.UseLdaps)
        {
            throw new ActiveDirectoryException(
                $"The password of '{distinguishedName}' can be set over LDAPS only: the domain controller refuses unicodePwd over plain LDAP.");
        }

        // MS-ADTS 3.1.1.3.1.5.1: the new password in double quotes, UTF-16LE, replaced in one modification.
        var value = System.Text.Encoding.Unicode.GetBytes($"\"{password}\"");
        try
        {
            await SendAsync(new ModifyRequest(distinguishedName, DirectoryAttributeOperation.Replace, "unicodePwd", value), cancellationToken);
        }
        catch (DirectoryOperationException exception) when (exception.Response?.ResultCode == ResultCode.InsufficientAccessRights)
        {
            throw new ActiveDirectoryException(
                $"The connection's account may not reset the password of the computer account '{distinguishedName}'.", exception);
        }
        catch (DirectoryOperationException exception) when (exception.Response?.ResultCode == ResultCode.NoSuchObject)
        {
            throw new ActiveDirectoryException($"The computer account '{distinguishedName}' does not exist.", exception);
        }
        catch (DirectoryOperationException exception)
            when (exception.Response?.ResultCode is ResultCode.ConstraintViolation or ResultCode.UnwillingToPerform)
        {
            throw new ActiveDirectoryException(
                $"The domain refused the new password of '{distinguishedName}' ({exception.Response!.ResultCode}): check its password policy.", exception);
        }
        finally
        {
            Array.Clear(value);
        }
    }

    public async IAsyncEnumerable<DirectoryIdentity> ListIdentitiesAsync(
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var domainName = (await ReadDomainAsync(cancellationToken)).NetBiosName;
        foreach (var kind in new[] { ActiveDirectoryAccountKind.User, ActiveDirectoryAccountKind.Group })
        {
            await foreach (var account in ListAccountsAsync(kind, cancellationToken: cancellationToken))
            {
                yield return new DirectoryIdentity(
                    kind == ActiveDirectoryAccountKind.User ? DirectoryIdentityKind.User : DirectoryIdentityKind.Group,
                    account.Sid,
                    account.SamAccountName,
                    account.UserPrincipalName,
                    account.DisplayName,
                    domainName);
            }
        }
    }

    public void Dispose()
    {
        connection?.Dispose();
        connection = null;
        connectGate.Dispose();
    }

    private static ComputerAccountResult Refuse(ComputerAccountRefusal refusal, string message) =>
        new(ComputerAccountOutcome.Refused, null, refusal, message);

    /// <summary>Who already has the requested name: a computer (conflict, or reuse) or another object.</summary>
    private async Task<ComputerAccountResult?> FindNameHolderAsync(ComputerAccountRequest request, CancellationToken cancellationToken)
    {
        var baseDn = await GetBaseDistinguishedNameAsync(cancellationToken);
        var name = LdapFilter.Escape(request.Name);
        var filter = $"(|(sAMAccountName={name}$)(sAMAccountName={name})(distinguishedName=CN={name},{LdapFilter.Escape(request.OrganizationalUnit)}))";
        await foreach (var entry in SearchAsync(baseDn, filter, SearchScope.Subtree, AccountAttributes, cancellationToken))
        {
            var holder = ToAccount(entry);
            if (holder.Kind != ActiveDirectoryAccountKind.Computer)
            {
                return Refuse(ComputerAccountRefusal.NameTakenByOtherObject,
                    $"The name '{request.Name}' is taken by the {holder.Kind.ToString().ToLowerInvariant()} '{holder.DistinguishedName}'.");
            }

            var computer = await FindComputerAsync(request.Name, cancellationToken);
            if (computer is null || !request.ReuseExisting)
            {
                return Refuse(ComputerAccountRefusal.NameTakenByComputer,
                    $"The name '{request.Name}' is taken by another machine's account '{holder.DistinguishedName}' "
                    + "and the policy does not reuse computer objects.");
            }

            var where = computer.DistinguishedName.EndsWith("," + request.OrganizationalUnit, StringComparison.OrdinalIgnoreCase)
                ? string.Empty
                : $" (it stays where it is, not in '{request.OrganizationalUnit}')";
            return new ComputerAccountResult(ComputerAccountOutcome.Reused, computer, ComputerAccountRefusal.None,
                $"Reusing the existing computer account '{computer.DistinguishedName}'{where}.");
        }

        return null;
    }

    private static string AccountFilter(string name)
    {
        const string Accounts = "(|(objectClass=user)(objectClass=group))";
        if (name.StartsWith("S-1-", StringComparison.OrdinalIgnoreCase))
        {
            return $"(&{Accounts}(objectSid={LdapFilter.Escape(SecurityIdentifierText.ToBinary(name))}))";
        }

        var slash = name.IndexOf('\\', StringComparison.Ordinal);
        if (slash >= 0)
        {
            name = name[(slash + 1)..];
        }
        else if (name.Contains('@', StringComparison.Ordinal))
        {
            return $"(&{Accounts}(userPrincipalName={LdapFilter.Escape(name)}))";
        }

        var escaped = LdapFilter.Escape(name);
        return $"(&{Accounts}(|(sAMAccountName={escaped})(sAMAccountName={escaped}$)))";
    }

    private static ActiveDirectoryAccount ToAccount(SearchResultEntry entry)
    {
        var classes = Texts(entry, "objectClass");
        var kind = classes.Contains("computer", StringComparer.OrdinalIgnoreCase) ? ActiveDirectoryAccountKind.Computer
            : classes.Contains("group", StringComparer.OrdinalIgnoreCase) ? ActiveDirectoryAccountKind.Group
            : ActiveDirectoryAccountKind.User;
        var samAccountName = Text(entry, "sAMAccountName") ?? string.Empty;
        return new ActiveDirectoryAccount(
            kind,
            entry.DistinguishedName,
            Sid(entry),
            samAccountName,
            Text(entry, "userPrincipalName"),
            Text(entry, "displayName") ?? Text(entry, "cn") ?? samAccountName,
            Guid(entry));
    }

    private static ActiveDirectoryComputer ToComputer(SearchResultEntry entry)
    {
        var control = int.Parse(Text(entry, "userAccountControl") ?? "0", CultureInfo.InvariantCulture);
        return new ActiveDirectoryComputer(
            (Text(entry, "sAMAccountName") ?? string.Empty).TrimEnd('$'),
            entry.DistinguishedName,
            Sid(entry),
            Text(entry, "dNSHostName"),
            Text(entry, "operatingSystem"),
            (control & AccountDisabled) == 0,
            Guid(entry));
    }

    private static string Sid(SearchResultEntry entry) =>
        Binary(entry, "objectSid") is { } sid ? SecurityIdentifierText.FromBinary(sid) : string.Empty;

    private static Guid Guid(SearchResultEntry entry) =>
        Binary(entry, "objectGUID") is { Length: 16 } guid ? new Guid(guid) : System.Guid.Empty;

    private static DirectoryAttribute? Attribute(SearchResultEntry entry, string name)
    {
        // Attribute names come back in the server's spelling; match them without regard to case.
        foreach (string attributeName in entry.Attributes.AttributeNames)
        {
            if (attributeName.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return entry.Attributes[attributeName];
            }
        }

        return null;
    }

    private static string? Text(SearchResultEntry entry, string name) =>
        Attribute(entry, name) is { Count: > 0 } attribute ? attribute.GetValues(typeof(string))[0] as string : null;

    private static string[] Texts(SearchResultEntry entry, string name) =>
        Attribute(entry, name) is { Count: > 0 } attribute ? attribute.GetValues(typeof(string)).Cast<string>().ToArray() : [];

    private static byte[]? Binary(SearchResultEntry entry, string name) =>
        Attribute(entry, name) is { Count: > 0 } attribute ? attribute.GetValues(typeof(byte[]))[0] as byte[] : null;

    private static string FunctionalLevelName(int level) => level switch
    {
        0 => "Windows 2000",
        1 => "Windows Server 2003 interim",
        2 => "Windows Server 2003",
        3 => "Windows Server 2008",
        4 => "Windows Server 2008 R2",
        5 => "Windows Server 2012",
        6 => "Windows Server 2012 R2",
        7 => "Windows Server 2016",
        _ => $"level {level.ToString(CultureInfo.InvariantCulture)}",
    };

    private static async Task<bool> RunCheckAsync(List<ConnectionCheck> checks, string name, Func<Task<string>> check)
    {
        try
        {
            checks.Add(new ConnectionCheck(name, true, await check()));
            return true;
        }
        catch (Exception exception) when (exception is LdapException or DirectoryOperationException
            or DirectoryUnavailableException or ActiveDirectoryException)
        {
            checks.Add(new ConnectionCheck(name, false, exception.Message));
            return false;
        }
    }

    private sealed record RootDse(string DefaultNamingContext, string ConfigurationNamingContext, string DnsHostName, int DomainFunctionality);

    private async Task<RootDse> ReadRootDseAsync(CancellationToken cancellationToken)
    {
        var entry = await SearchBaseAsync(string.Empty,
            ["defaultNamingContext", "configurationNamingContext", "dnsHostName", "domainFunctionality"], cancellationToken)
            ?? throw new ActiveDirectoryException("The DC returned no root DSE.");
        var defaultNamingContext = Text(entry, "defaultNamingContext")
            ?? throw new ActiveDirectoryException("The DC's root DSE names no default naming context; is it a domain controller?");
        baseDistinguishedName ??= defaultNamingContext;
        return new RootDse(
            defaultNamingContext,
            Text(entry, "configurationNamingContext") ?? $"CN=Configuration,{defaultNamingContext}",
            Text(entry, "dnsHostName") ?? options.Server,
            int.Parse(Text(entry, "domainFunctionality") ?? "0", CultureInfo.InvariantCulture));
    }

    private async Task<string> ReadDomainSidAsync(string domainDistinguishedName, CancellationToken cancellationToken)
    {
        var entry = await SearchBaseAsync(domainDistinguishedName, ["objectSid"], cancellationToken)
            ?? throw new ActiveDirectoryException($"The domain object '{domainDistinguishedName}' cannot be read.");
        var sid = Sid(entry);
        return sid.Length == 0 ? throw new ActiveDirectoryException("The domain object has no SID.") : sid;
    }

    private async Task<(string NetBiosName, string DnsName)> ReadCrossReferenceAsync(RootDse root, CancellationToken cancellationToken)
    {
        var filter = $"(&(objectClass=crossRef)(nCName={LdapFilter.Escape(root.DefaultNamingContext)}))";
        await foreach (var entry in SearchAsync($"CN=Partitions,{root.ConfigurationNamingContext}", filter,
            SearchScope.OneLevel, ["nETBIOSName", "dnsRoot"], cancellationToken))
        {
            return (Text(entry, "nETBIOSName") ?? throw new ActiveDirectoryException("The domain's cross-reference has no NetBIOS name."),
                Text(entry, "dnsRoot") ?? throw new ActiveDirectoryException("The domain's cross-reference has no DNS name."));
        }

        throw new ActiveDirectoryException("The domain's cross-reference (NetBIOS name) was not found in the configuration partition.");
    }

    private async Task<IReadOnlyList<string>> ReadDomainControllersAsync(string domainDistinguishedName, CancellationToken cancellationToken)
    {
        var filter = $"(&(objectCategory=computer)(userAccountControl:1.2.840.113556.1.4.803:={ServerTrustAccount}))";
        var controllers = new List<string>();
        await foreach (var entry in SearchAsync(domainDistinguishedName, filter, SearchScope.Subtree, ["dNSHostName", "cn"], cancellationToken))
        {
            controllers.Add(Text(entry, "dNSHostName") ?? Text(entry, "cn") ?? entry.DistinguishedName);
        }

        return controllers;
    }

    private async Task<string> GetBaseDistinguishedNameAsync(CancellationToken cancellationToken) =>
        baseDistinguishedName ?? (await ReadRootDseAsync(cancellationToken)).DefaultNamingContext;

    private async Task<SearchResultEntry?> SearchBaseAsync(string distinguishedName, string[] attributes, CancellationToken cancellationToken)
    {
        var request = new SearchRequest(distinguishedName, "(objectClass=*)", SearchScope.Base, attributes);
        try
        {
            var response = (SearchResponse)await SendAsync(request, cancellationToken);
            return response.Entries.Count > 0 ? response.Entries[0] : null;
        }
        catch (DirectoryOperationException exception) when (exception.Response?.ResultCode == ResultCode.NoSuchObject)
        {
            return null;
        }
    }

    /// <summary>A subtree or one-level search, page by page (simple paged results control).</summary>
    private async IAsyncEnumerable<SearchResultEntry> SearchAsync(
        string baseDn,
        string filter,
        SearchScope scope,
        string[] attributes,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var page = new PageResultRequestControl(options.PageSize) { IsCritical = false };
        while (true)
        {
            var request = new SearchRequest(baseDn, filter, scope, attributes);
            request.Controls.Add(page);
            var response = (SearchResponse)await SendAsync(request, cancellationToken);
            foreach (SearchResultEntry entry in response.Entries)
            {
                yield return entry;
            }

            var next = response.Controls.OfType<PageResultResponseControl>().FirstOrDefault();
            if (next is null || next.Cookie.Length == 0)
            {
                yield break;
            }

            page.Cookie = next.Cookie;
        }
    }

    private async Task<DirectoryResponse> SendAsync(DirectoryRequest request, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var bound = await GetConnectionAsync(cancellationToken);
            try
            {
                return await Task.Factory.FromAsync(
                    (callback, state) => bound.BeginSendRequest(request, options.Timeout, PartialResultProcessing.NoPartialResultSupport, callback, state),
                    bound.EndSendRequest,
                    null).WaitAsync(cancellationToken);
            }
            catch (LdapException exception) when (exception.ErrorCode == LdapServerDown)
            {
                // The DC dropped an idle connection, or went away: reconnect once before giving up.
                await DropConnectionAsync(bound);
                if (attempt > 1)
                {
                    throw Unreachable(exception);
                }
            }
        }
    }

    private const int LdapInvalidCredentials = 49;
    private const int LdapServerDown = 81;
    private const int LdapTimeout = 85;

    private async Task<LdapConnection> GetConnectionAsync(CancellationToken cancellationToken)
    {
        if (connection is { } existing)
        {
            return existing;
        }

        await connectGate.WaitAsync(cancellationToken);
        try
        {
            if (connection is null)
            {
                try
                {
                    connection = await Task.Run(Open, cancellationToken);
                }
                catch (DirectoryUnavailableException unavailable) when (options.UseLdaps)
                {
                    // libldap reports a failed TLS handshake like a DC that is down. A DC that accepts the
                    // connection is up; if a second handshake fails too it is the certificate: a setting to
                    // fix, not an outage to wait out. (One busy DC can drop a handshake, hence the second.)
                    if (!await AcceptsTcpAsync(cancellationToken))
                    {
                        throw;
                    }

                    connection = await RetryHandshakeAsync(cancellationToken);
                    if (connection is not null)
                    {
                        return connection;
                    }

                    throw new ActiveDirectoryException(
                        $"The TLS handshake with {options.Server}:{options.EffectivePort} failed: the DC's certificate is not trusted "
                        + "(see the trusted certificates directory) or does not name the server connected to.",
                        unavailable.InnerException ?? unavailable);
                }
            }

            return connection;
        }
        finally
        {
            connectGate.Release();
        }
    }

    private async Task<LdapConnection?> RetryHandshakeAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        try
        {
            return await Task.Run(Open, cancellationToken);
        }
        catch (DirectoryUnavailableException)
        {
            return null;
        }
    }

    private async Task<bool> AcceptsTcpAsync(CancellationToken cancellationToken)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await tcp.ConnectAsync(options.Server, options.EffectivePort, timeout.Token);
            return true;
        }
        catch (Exception exception) when (exception is System.Net.Sockets.SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    private async Task DropConnectionAsync(LdapConnection dropped)
    {
        await connectGate.WaitAsync();
        try
        {
            if (ReferenceEquals(connection, dropped))
            {
                connection = null;
                dropped.Dispose();
            }
        }
        finally
        {
            connectGate.Release();
        }
    }

    private LdapConnection Open()
    {
        var identifier = new LdapDirectoryIdentifier(options.Server, options.EffectivePort, false, false);
        var authType = options.Authentication == ActiveDirectoryAuthentication.Simple ? AuthType.Basic : AuthType.Negotiate;
        var credential = options.Credential is { } account ? new NetworkCredential(account.UserName, account.Password) : null;
        var opened = credential is null
            ? new LdapConnection(identifier) { AuthType = authType }
            : new LdapConnection(identifier, credential, authType);
        try
        {
            opened.AutoBind = false;
            opened.Timeout = options.Timeout;
            opened.SessionOptions.ProtocolVersion = 3;
            opened.SessionOptions.ReferralChasing = ReferralChasingOptions.None;
            if (options.UseLdaps)
            {
                ConfigureTls(opened.SessionOptions);
            }

            opened.Bind();
            return opened;
        }
        catch (LdapException exception)
        {
            opened.Dispose();
            throw exception.ErrorCode switch
            {
                LdapInvalidCredentials => new ActiveDirectoryException(
                    $"The DC {options.Server} rejected the credentials of {options.Credential?.UserName ?? "the Kerberos ticket"}.", exception),
                LdapServerDown or LdapTimeout => Unreachable(exception),
                _ => new ActiveDirectoryException($"Binding to {options.Server} failed: {exception.Message}", exception),
            };
        }
        catch
        {
            opened.Dispose();
            throw;
        }
    }

    private void ConfigureTls(LdapSessionOptions session)
    {
        session.SecureSocketLayer = true;
        if (OperatingSystem.IsWindows())
        {
            if (options.CertificateValidation == LdapCertificateValidation.AcceptAny)
            {
                session.VerifyServerCertificate = (_, _) => true;
            }
        }
        else
        {
            // libldap ignores the VerifyServerCertificate callback; trust comes from a CA folder, applied
            // by starting a new TLS context for this connection.
            if (options.TrustedCertificatesDirectory is { } trusted)
            {
                session.TrustedCertificatesDirectory = trusted;
            }

            session.StartNewTlsSessionContext();
        }
    }

    private DirectoryUnavailableException Unreachable(LdapException exception) =>
        new($"The domain controller {options.Server}:{options.EffectivePort} cannot be reached over {(options.UseLdaps ? "LDAPS" : "LDAP")}.",
            exception);
}
