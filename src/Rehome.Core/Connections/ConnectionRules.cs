using System.Text.RegularExpressions;
using Rehome.Core.Validation;

namespace Rehome.Core.Connections;

/// <summary>What makes a connection valid, checked the same way for the API, the console and the CLI.</summary>
public static partial class ConnectionRules
{
    public const int NameMaxLength = 100;

    /// <summary>Host names, account names, DNs and ids: far more than any real one.</summary>
    public const int FieldMaxLength = 1024;

    /// <summary>Passwords and client secrets: bounded only (they are never shown, so no character is refused).</summary>
    public const int SecretMaxLength = 1024;

    /// <summary>The largest bulk enrollment provisioning package the server accepts (a .ppkg is a few MiB at most).</summary>
    public const long BulkEnrollmentPackageMaxBytes = 64L * 1024 * 1024;

    /// <summary>Stable rule names that callers outside validation (readiness, console) also test for.</summary>
    public const string EntraIdOnlineNotSupported = "EntraIdOnlineNotSupported";

    /// <summary>Validates an input. <paramref name="existing"/> is the stored connection on update, for secrets left unchanged.</summary>
    public static IReadOnlyList<RuleViolation> Validate(ConnectionInput input, Connection? existing = null)
    {
        var violations = new RuleViolations();
        if (violations.Require("name", input.Name, "The connection name"))
        {
            violations.Text("name", input.Name, NameMaxLength, "The connection name");
        }
        CheckTexts(input, violations);
        if (!Enum.IsDefined(input.Role))
        {
            violations.Add("role", "UnknownValue", "The role must be Source or Destination.");
        }
        if (!Enum.IsDefined(input.Kind))
        {
            violations.Add("kind", "UnknownValue", "The kind must be ActiveDirectory, HybridIdentity or EntraId.");
        }
        if (existing is not null && existing.Role != input.Role)
        {
            violations.Add("role", "RoleIsFixed", "The role of a connection cannot change; create a new connection instead.");
        }

        if (input.Role == ConnectionRole.Source)
        {
            if (input.Destination is not null)
            {
                violations.Add("destination", "WrongRole", "A source connection has no destination part.");
            }
            ValidateSource(input.Source ?? new SourceConnectionInput(), existing, violations);
        }
        else if (input.Role == ConnectionRole.Destination)
        {
            if (input.Source is not null)
            {
                violations.Add("source", "WrongRole", "A destination connection has no source part.");
            }
            if (input.Destination is null)
            {
                violations.Add("destination", "Required", "A destination connection needs its destination part.");
            }
            else
            {
                ValidateDestination(input.Kind, input.Destination, existing, violations);
            }
        }
        return violations.Items;
    }

    /// <summary>Every other text of a connection, bounded and printable wherever it is.</summary>
    private static void CheckTexts(ConnectionInput input, RuleViolations violations)
    {
        var source = input.Source;
        var destination = input.Destination;
        var texts = new (string Field, string? Value)[]
        {
            ("source.breakGlassAdministratorName", source?.BreakGlassAdministratorName),
            ("source.domainDnsName", source?.DomainDnsName),
            ("source.domainController", source?.DomainController),
            ("source.serviceAccountName", source?.ServiceAccountName),
            ("source.entraId.tenantId", source?.EntraId?.TenantId),
            ("source.entraId.clientId", source?.EntraId?.ClientId),
            ("destination.domainDnsName", destination?.DomainDnsName),
            ("destination.targetOu", destination?.TargetOu),
            ("destination.domainController", destination?.DomainController),
            ("destination.serviceAccountName", destination?.ServiceAccountName),
            ("destination.entraId.tenantId", destination?.EntraId?.TenantId),
            ("destination.entraId.clientId", destination?.EntraId?.ClientId),
        };
        foreach (var (field, value) in texts)
        {
            violations.Text(field, value, FieldMaxLength, $"The {field}");
        }
        var secrets = new (string Field, string? Value)[]
        {
            ("source.breakGlassAdministratorPassword", source?.BreakGlassAdministratorPassword),
            ("source.serviceAccountPassword", source?.ServiceAccountPassword),
            ("source.entraId.clientSecret", source?.EntraId?.ClientSecret),
            ("destination.serviceAccountPassword", destination?.ServiceAccountPassword),
            ("destination.entraId.clientSecret", destination?.EntraId?.ClientSecret),
        };
        foreach (var (field, value) in secrets)
        {
            violations.MaxLength(field, value, SecretMaxLength, $"The {field}");
        }
    }

    private static void ValidateSource(SourceConnectionInput source, Connection? existing, RuleViolations violations)
    {
        var adminName = source.BreakGlassAdministratorName;
        if (!string.IsNullOrWhiteSpace(adminName))
        {
            if (!LocalAccountName().IsMatch(adminName))
            {
                violations.Add("source.breakGlassAdministratorName", "AccountName",
                    "A local account name has 1 to 20 characters and none of \" / \\ [ ] : ; | = , + * ? < > @.");
            }
            if (source.BreakGlassAdministratorPassword is { } password)
            {
                PasswordRules.Check("source.breakGlassAdministratorPassword", password, adminName, violations);
            }
            else if (existing?.BreakGlassAdministratorPasswordProtected is null)
            {
                violations.Add("source.breakGlassAdministratorPassword", "Required",
                    "The break-glass administrator needs a password.");
            }
        }
        else if (source.BreakGlassAdministratorPassword is not null)
        {
            violations.Add("source.breakGlassAdministratorName", "Required",
                "A break-glass administrator password was given without the account name.");
        }

        ValidateEntraId("source", source.EntraId, existing, violations);
        if (!string.IsNullOrWhiteSpace(source.DomainDnsName) && !DnsName().IsMatch(source.DomainDnsName.Trim()))
        {
            violations.Add("source.domainDnsName", "DnsName", $"'{source.DomainDnsName}' is not a DNS domain name such as corp.example.com.");
        }
        ValidateDirectoryAccess("source", source.DomainController, source.UseLdaps, source.ServiceAccountName, source.ServiceAccountPassword, existing, violations);
    }

    /// <summary>An Entra ID part, on either role: tenant and client ids, and a secret unless one is stored.</summary>
    private static void ValidateEntraId(string part, EntraIdInput? entra, Connection? existing, RuleViolations violations)
    {
        if (entra is null)
        {
            return;
        }
        if (!Guid.TryParse(entra.TenantId, out _))
        {
            violations.Add($"{part}.entraId.tenantId", "Guid", "The Entra ID tenant id must be a GUID.");
        }
        if (!Guid.TryParse(entra.ClientId, out _))
        {
            violations.Add($"{part}.entraId.clientId", "Guid", "The Entra ID client (application) id must be a GUID.");
        }
        if (string.IsNullOrEmpty(entra.ClientSecret) && existing?.EntraClientSecretProtected is null)
        {
            violations.Add($"{part}.entraId.clientSecret", "Required", "The Entra ID part needs its client secret.");
        }
        else if (string.IsNullOrEmpty(entra.ClientSecret) && existing is not null
            && (!Same(entra.TenantId, existing.EntraTenantId) || !Same(entra.ClientId, existing.EntraClientId)))
        {
            // A stored secret only ever goes to the tenant and app it was saved for.
            violations.Add($"{part}.entraId.clientSecret", "SecretForAnotherApp",
                "The tenant or client id changed: give the client secret again (a saved secret is never sent to another app).");
        }
    }

    /// <summary>
    /// How the server reaches a domain: a domain controller that looks like a host name or address, and an
    /// account with its password once a domain controller is given (the server binds with it).
    /// </summary>
    private static void ValidateDirectoryAccess(
        string part, string? domainController, bool? useLdaps, string? accountName, string? password, Connection? existing, RuleViolations violations)
    {
        if (string.IsNullOrWhiteSpace(domainController))
        {
            return;
        }
        if (!HostName().IsMatch(domainController.Trim()))
        {
            violations.Add($"{part}.domainController", "HostName",
                $"'{domainController}' is not a domain controller's DNS name or IP address such as dc01.corp.example.com.");
        }
        if (useLdaps == false)
        {
            // The server binds with the account's password: without TLS it would cross the network readable.
            violations.Add($"{part}.useLdaps", "LdapsRequired",
                "The server binds with the service account's password, which plain LDAP would send in clear text: use LDAPS (port 636).");
        }
        if (string.IsNullOrWhiteSpace(accountName))
        {
            violations.Add($"{part}.serviceAccountName", "Required",
                "The server binds to the domain controller with a service account: give its name (user@domain or DOMAIN\\user).");
        }
        else if (password is null && existing?.ServiceAccountPasswordProtected is null)
        {
            violations.Add($"{part}.serviceAccountPassword", "Required", "The service account needs its password.");
        }
        else if (password is null && existing is not null
            && (!Same(domainController, existing.DomainController) || !Same(accountName, existing.ServiceAccountName)))
        {
            // A saved password only ever goes to the server and account it was saved for.
            violations.Add($"{part}.serviceAccountPassword", "SecretForAnotherServer",
                "The domain controller or the account changed: give the password again (a saved password is never sent to another server).");
        }
    }

    private static bool Same(string? a, string? b) => string.Equals(a?.Trim(), b?.Trim(), StringComparison.OrdinalIgnoreCase);

    private static void ValidateDestination(
        ConnectionKind kind, DestinationConnectionInput destination, Connection? existing, RuleViolations violations)
    {
        if (!Enum.IsDefined(destination.RejoinMethod))
        {
            violations.Add("destination.rejoinMethod", "UnknownValue", "The rejoin method must be Online or Offline.");
        }
        if (kind is ConnectionKind.ActiveDirectory or ConnectionKind.HybridIdentity)
        {
            if (violations.Require("destination.domainDnsName", destination.DomainDnsName, "The destination domain DNS name") &&
                !DnsName().IsMatch(destination.DomainDnsName!))
            {
                violations.Add("destination.domainDnsName", "DnsName",
                    $"'{destination.DomainDnsName}' is not a DNS domain name such as corp.example.com.");
            }
            if (violations.Require("destination.targetOu", destination.TargetOu, "The target OU") &&
                !DistinguishedNames.IsValid(destination.TargetOu!))
            {
                violations.Add("destination.targetOu", "DistinguishedName",
                    $"'{destination.TargetOu}' is not a distinguished name such as OU=Computers,DC=corp,DC=example,DC=com.");
            }
            ValidateDirectoryAccess("destination", destination.DomainController, destination.UseLdaps, destination.ServiceAccountName,
                destination.ServiceAccountPassword, existing, violations);
            if (destination.RejoinMethod == RejoinMethod.Online)
            {
                violations.Require("destination.serviceAccountName", destination.ServiceAccountName,
                    "The service account that joins devices online");
                if (destination.ServiceAccountPassword is null && existing?.ServiceAccountPasswordProtected is null)
                {
                    violations.Add("destination.serviceAccountPassword", "Required",
                        "The service account that joins devices online needs its password.");
                }
            }
        }
        else if (kind == ConnectionKind.EntraId && destination.RejoinMethod == RejoinMethod.Online)
        {
            // Windows joins Entra ID online only with a user's credentials (OOBE, Settings, Autopilot); a service
            // running as SYSTEM has none, so the agent could not do it.
            violations.Add("destination.rejoinMethod", EntraIdOnlineNotSupported,
                "Windows joins Microsoft Entra ID online only with a user's credentials, which the agent never has: use Offline with a bulk enrollment package.");
        }
        else if (kind == ConnectionKind.EntraId && destination.RejoinMethod == RejoinMethod.Offline)
        {
            // The package itself is uploaded as a file once the connection exists; the readiness check says when it is missing.
            if (destination.BulkEnrollmentTokenExpiresAt is null)
            {
                violations.Add("destination.bulkEnrollmentTokenExpiresAt", "Required",
                    "The expiry date of the bulk enrollment token is required, so that Rehome can warn before it lapses.");
            }
        }
        ValidateEntraId("destination", destination.EntraId, existing, violations);
    }

    /// <summary>
    /// Whether a bulk enrollment provisioning package of <paramref name="length"/> bytes may be uploaded to the
    /// connection: only Microsoft Entra ID connections have one (a destination's offline join, a source's return
    /// ticket), it is not empty, and at most <see cref="BulkEnrollmentPackageMaxBytes"/>.
    /// </summary>
    public static IReadOnlyList<RuleViolation> ValidatePackage(Connection connection, long length)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var violations = new RuleViolations();
        if (connection.Kind != ConnectionKind.EntraId)
        {
            violations.Add("bulkEnrollmentPackage", "NotEntraId",
                $"'{connection.Name}' is a {connection.Kind} connection: only Microsoft Entra ID connections take a bulk enrollment provisioning package (Active Directory joins use offline join data the server makes).");
        }
        if (length <= 0)
        {
            violations.Add("bulkEnrollmentPackage", "Required", "The provisioning package is empty: upload the .ppkg file made with Windows Configuration Designer.");
        }
        else if (length > BulkEnrollmentPackageMaxBytes)
        {
            violations.Add("bulkEnrollmentPackage", "TooLarge",
                $"The provisioning package is larger than {BulkEnrollmentPackageMaxBytes / (1024 * 1024)} MiB.");
        }
        return violations.Items;
    }

    [GeneratedRegex(@"^[^""/\\\[\]:;|=,+*?<>@]{1,20}$")]
    private static partial Regex LocalAccountName();

    // A DNS name or an IPv4/IPv6 address (letters, digits, dots, hyphens, colons).
    [GeneratedRegex(@"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?$")]
    private static partial Regex HostName();

    [GeneratedRegex(@"^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")]
    private static partial Regex DnsName();
}
