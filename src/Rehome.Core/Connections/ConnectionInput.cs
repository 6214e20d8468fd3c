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
}

/// <summary>The optional Entra ID part of a source connection (needed to migrate Entra ID groups).</summary>
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

    public RejoinMethod RejoinMethod { get; init; }

    public string? ServiceAccountName { get; init; }

    public string? ServiceAccountPassword { get; init; }

    public string? BulkEnrollmentPackage { get; init; }

    public DateTimeOffset? BulkEnrollmentTokenExpiresAt { get; init; }
}
