namespace Rehome.Directory.ActiveDirectory;

/// <summary>How Rehome authenticates to a domain controller.</summary>
public enum ActiveDirectoryAuthentication
{
    /// <summary>LDAP simple bind with user name and password; use it over LDAPS.</summary>
    Simple,

    /// <summary>
    /// Kerberos or NTLM. On Linux this uses the Kerberos ticket of the process (kinit) and needs the DC's
    /// DNS name in <see cref="ActiveDirectoryConnectionOptions.Server"/>; on Windows the credential is used.
    /// </summary>
    Negotiate,
}

/// <summary>How the DC's certificate is checked when LDAPS is used.</summary>
public enum LdapCertificateValidation
{
    /// <summary>The certificate must chain to a trusted authority and name the server connected to.</summary>
    Validate,

    /// <summary>Any certificate is accepted. Only available on Windows; for lab domains only.</summary>
    AcceptAny,
}

/// <summary>Where and how to reach one Active Directory domain.</summary>
public sealed record ActiveDirectoryConnectionOptions
{
    /// <summary>The DC's DNS name or address.</summary>
    public required string Server { get; init; }

    /// <summary>The port; 636 with LDAPS, 389 without, when not set.</summary>
    public int? Port { get; init; }

    /// <summary>Whether to use LDAP over TLS (LDAPS).</summary>
    public bool UseLdaps { get; init; } = true;

    /// <summary>How the DC's certificate is checked with LDAPS.</summary>
    public LdapCertificateValidation CertificateValidation { get; init; } = LdapCertificateValidation.Validate;

    /// <summary>
    /// On Linux, a folder of trusted CA certificates in OpenSSL's hashed layout (c_rehash); when not set,
    /// the system's trust store is used.
    /// </summary>
    public string? TrustedCertificatesDirectory { get; init; }

    /// <summary>How to authenticate.</summary>
    public ActiveDirectoryAuthentication Authentication { get; init; } = ActiveDirectoryAuthentication.Simple;

    /// <summary>The account; optional only for Negotiate with a Kerberos ticket.</summary>
    public DirectoryCredential? Credential { get; init; }

    /// <summary>The domain's distinguished name; read from the DC (defaultNamingContext) when not set.</summary>
    public string? BaseDistinguishedName { get; init; }

    /// <summary>How many entries a page of a search holds; AD's own limit is 1000.</summary>
    public int PageSize { get; init; } = 500;

    /// <summary>How long one LDAP request may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The effective port.</summary>
    public int EffectivePort => Port ?? (UseLdaps ? 636 : 389);

    /// <summary>Checks the options, naming the first problem found, or null when they are usable.</summary>
    public string? Validate()
    {
        if (string.IsNullOrWhiteSpace(Server))
        {
            return "The domain controller's name or address is missing.";
        }

        if (Authentication == ActiveDirectoryAuthentication.Simple && Credential is null)
        {
            return "Simple bind needs a user name and password.";
        }

        if (PageSize is < 1 or > 1000)
        {
            return "The page size must be between 1 and 1000.";
        }

        if (UseLdaps && CertificateValidation == LdapCertificateValidation.AcceptAny && !OperatingSystem.IsWindows())
        {
            return "Accepting any LDAPS certificate is only possible on Windows; "
                + "add the DC's certification authority to a trusted certificates directory instead.";
        }

        return null;
    }
}
