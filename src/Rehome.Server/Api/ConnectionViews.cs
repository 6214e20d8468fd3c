using Rehome.Core.Connections;

namespace Rehome.Server.Api;

/// <summary>
/// A connection as the API shows it: every setting, and for each secret only whether it is set (a provisioning
/// package: its size and when it was uploaded).
/// </summary>
public sealed record ConnectionView(
    Guid Id,
    string Name,
    ConnectionRole Role,
    ConnectionKind Kind,
    SourceConnectionView? Source,
    DestinationConnectionView? Destination,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static ConnectionView From(Connection c) => new(
        c.Id, c.Name, c.Role, c.Kind,
        c.Role == ConnectionRole.Source
            ? new SourceConnectionView(
                c.BreakGlassAdministratorName,
                c.BreakGlassAdministratorPasswordProtected is not null,
                c.ConfigurationKeyHash is not null,
                c.ConfigurationKeyRotatedAt,
                EntraIdView.From(c),
                c.DomainDnsName, c.DomainController, c.UseLdaps, c.ServiceAccountName, c.ServiceAccountPasswordProtected is not null,
                c.BulkEnrollmentPackageBytes, c.BulkEnrollmentPackageUploadedAt, c.BulkEnrollmentTokenExpiresAt)
            : null,
        c.Role == ConnectionRole.Destination
            ? new DestinationConnectionView(
                c.DomainDnsName, c.TargetOu, c.DomainController, c.UseLdaps, c.RejoinMethod, c.ServiceAccountName,
                c.ServiceAccountPasswordProtected is not null, c.BulkEnrollmentPackageBytes, c.BulkEnrollmentPackageUploadedAt,
                c.BulkEnrollmentTokenExpiresAt, EntraIdView.From(c))
            : null,
        c.CreatedAt, c.UpdatedAt);
}

public sealed record SourceConnectionView(
    string? BreakGlassAdministratorName,
    bool HasBreakGlassAdministratorPassword,
    bool HasConfigurationKey,
    DateTimeOffset? ConfigurationKeyRotatedAt,
    EntraIdView? EntraId,
    string? DomainDnsName,
    string? DomainController,
    bool UseLdaps,
    string? ServiceAccountName,
    bool HasServiceAccountPassword,
    long? BulkEnrollmentPackageBytes,
    DateTimeOffset? BulkEnrollmentPackageUploadedAt,
    DateTimeOffset? BulkEnrollmentTokenExpiresAt);

public sealed record EntraIdView(string? TenantId, string? ClientId, bool HasClientSecret, bool Enabled)
{
    public static EntraIdView? From(Connection c) =>
        c.EntraTenantId is null ? null : new EntraIdView(c.EntraTenantId, c.EntraClientId, c.EntraClientSecretProtected is not null, c.EntraEnabled);
}

public sealed record DestinationConnectionView(
    string? DomainDnsName,
    string? TargetOu,
    string? DomainController,
    bool UseLdaps,
    RejoinMethod RejoinMethod,
    string? ServiceAccountName,
    bool HasServiceAccountPassword,
    long? BulkEnrollmentPackageBytes,
    DateTimeOffset? BulkEnrollmentPackageUploadedAt,
    DateTimeOffset? BulkEnrollmentTokenExpiresAt,
    EntraIdView? EntraId);

/// <summary>The answer to creating a source connection or rotating its key: the only time the key is shown.</summary>
public sealed record ConnectionCreated(ConnectionView Connection, string? ConfigurationKey);

public sealed record ConfigurationKeyRotated(string ConfigurationKey, DateTimeOffset RotatedAt);
