namespace Rehome.Core.Connections;

/// <summary>
/// What an administrator sends to create or update a connection. Secrets arrive in plain text here and only
/// here; on update a secret left <c>null</c> keeps the stored one.
/// </summary>
public sealed record ConnectionInput
{
    public string? Name { get; init; }

    public ConnectionRole Role { get; init; }

    public ConnectionKind Kind { get; init; }

    public SourceConnectionInput? Source { get; init; }

    public DestinationConnectionInput? Destination { get; init; }
}

/// <summary>The source part of a connection.</summary>
public sealed record SourceConnectionInput
{
    public string? BreakGlassAdministratorName { get; init; }

    public string? BreakGlassAdministratorPassword { get; init; }

    public EntraIdInput? EntraId { get; init; }

    /// <summary>The source domain's DNS name (Active Directory and Hybrid Identity): whose users and groups the SID map reads.</summary>
    public string? DomainDnsName { get; init; }

    /// <summary>A domain controller of the source domain (DNS name or address), for identity look-ups and discovery.</summary>
    public string? DomainController { get; init; }

    /// <summary>LDAP over TLS; true when not given.</summary>
    public bool? UseLdaps { get; init; }

    /// <summary>The account the server reads the source domain with.</summary>
    public string? ServiceAccountName { get; init; }

    public string? ServiceAccountPassword { get; init; }

    /// <summary>
    /// Entra ID source: when the bulk enrollment token of the source tenant's provisioning package (the return
    /// ticket) lapses; optional.
    /// </summary>
    public DateTimeOffset? BulkEnrollmentTokenExpiresAt { get; init; }
}

/// <summary>
/// The optional Entra ID part of a connection: on a source, needed to migrate Entra ID groups and to remove
/// Autopilot records; on a destination, where groups and Autopilot records go.
/// </summary>
public sealed record EntraIdInput
{
    public string? TenantId { get; init; }

    public string? ClientId { get; init; }

    public string? ClientSecret { get; init; }

    public bool Enabled { get; init; }
}

/// <summary>The destination part of a connection.</summary>
public sealed record DestinationConnectionInput
{
    public string? DomainDnsName { get; init; }

    public string? TargetOu { get; init; }

    /// <summary>A domain controller of the destination domain (DNS name or address), where the server creates computer objects.</summary>
    public string? DomainController { get; init; }

    /// <summary>LDAP over TLS; true when not given.</summary>
    public bool? UseLdaps { get; init; }

    public RejoinMethod RejoinMethod { get; init; }

    public string? ServiceAccountName { get; init; }

    public string? ServiceAccountPassword { get; init; }

    /// <summary>
    /// Entra ID offline: when the bulk enrollment token of the connection's provisioning package lapses. The
    /// package itself is uploaded as a file (<c>PUT connections/{id}/bulk-enrollment-package</c>).
    /// </summary>
    public DateTimeOffset? BulkEnrollmentTokenExpiresAt { get; init; }

    public EntraIdInput? EntraId { get; init; }
}
