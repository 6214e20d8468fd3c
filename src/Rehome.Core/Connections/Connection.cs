namespace Rehome.Core.Connections;

/// <summary>
/// A source or destination directory. Secrets are held only in their protected (encrypted) form, produced
/// and read by the server's secret protector; nothing here can turn them back into plain text.
/// </summary>
public sealed class Connection
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public ConnectionRole Role { get; set; }

    public ConnectionKind Kind { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    // ---- Source part ----

    /// <summary>SHA-256 of the configuration key that enrolls agents; the key itself is shown once.</summary>
    public string? ConfigurationKeyHash { get; set; }

    public DateTimeOffset? ConfigurationKeyRotatedAt { get; set; }

    /// <summary>Name of the break-glass local administrator the agent creates on each device, if any.</summary>
    public string? BreakGlassAdministratorName { get; set; }

    public string? BreakGlassAdministratorPasswordProtected { get; set; }

    // ---- Entra ID part (source: groups and Autopilot records to move; destination: where they go) ----

    public string? EntraTenantId { get; set; }

    public string? EntraClientId { get; set; }

    public string? EntraClientSecretProtected { get; set; }

    /// <summary>Whether the Entra ID part is enabled (required by Migrate Entra ID groups and Register Windows Autopilot).</summary>
    public bool EntraEnabled { get; set; }

    // ---- Active Directory part (both roles: the server reads identities and creates computer objects) ----

    public string? DomainDnsName { get; set; }

    /// <summary>The domain controller the server reaches over LDAP (DNS name or address); none means not connected.</summary>
    public string? DomainController { get; set; }

    /// <summary>LDAP over TLS (port 636) rather than plain LDAP (389).</summary>
    public bool UseLdaps { get; set; } = true;

    /// <summary>The account the server binds with; on a destination it also creates computer objects and joins devices online.</summary>
    public string? ServiceAccountName { get; set; }

    public string? ServiceAccountPasswordProtected { get; set; }

    // ---- Destination part ----

    public string? TargetOu { get; set; }

    public RejoinMethod RejoinMethod { get; set; }

    // ---- Entra ID provisioning package (a destination's offline join; a source's return ticket) ----

    /// <summary>
    /// The size of the uploaded bulk enrollment provisioning package (.ppkg); null when none is uploaded. The
    /// package itself is a secret (it holds a bulk enrollment token) kept encrypted in its own table, and never read back.
    /// </summary>
    public long? BulkEnrollmentPackageBytes { get; set; }

    public DateTimeOffset? BulkEnrollmentPackageUploadedAt { get; set; }

    /// <summary>When the bulk enrollment token inside the package lapses, so that Rehome can warn before.</summary>
    public DateTimeOffset? BulkEnrollmentTokenExpiresAt { get; set; }

    /// <summary>Whether devices rejoining through this destination need the server to prepare something first.</summary>
    public bool NeedsDestinationPreparation =>
        Role == ConnectionRole.Destination && Kind is ConnectionKind.ActiveDirectory or ConnectionKind.HybridIdentity;
}
