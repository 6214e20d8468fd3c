using Microsoft.EntityFrameworkCore;
using Rehome.Core.Connections;
using Rehome.Server.Api;
using Rehome.Server.Audit;
using Rehome.Server.Secrets;
using Rehome.Server.Store;

namespace Rehome.Server.Administration;

/// <summary>Creates, changes and deletes connections, and rotates a source's configuration key: for the API and the console.</summary>
public sealed class ConnectionCommands(RehomeDbContext db, SecretProtector secrets, AuditTrail audit, TimeProvider time)
{
    public async Task<IReadOnlyList<ConnectionView>> ListAsync(CancellationToken ct) =>
        (await db.Connections.AsNoTracking().OrderBy(c => c.Name).ToListAsync(ct)).Select(ConnectionView.From).ToList();

    public async Task<ConnectionView?> GetAsync(Guid id, CancellationToken ct) =>
        await db.Connections.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id, ct) is { } connection ? ConnectionView.From(connection) : null;

    /// <summary>Creates a connection; a source's configuration key is in the answer, and nowhere ever again.</summary>
    public async Task<Outcome<ConnectionCreated>> CreateAsync(ConnectionInput input, CancellationToken ct)
    {
        var violations = ConnectionRules.Validate(input);
        if (violations.Count > 0)
        {
            return Failure.Validation(violations);
        }
        var name = input.Name!.Trim();
        if (await db.Connections.AnyAsync(c => c.Name == name, ct))
        {
            return NameTaken(name);
        }
        var now = time.GetUtcNow();
        var connection = new Connection { Id = Guid.CreateVersion7(now), Name = name, Role = input.Role, Kind = input.Kind, CreatedAt = now };
        Apply(connection, input, now);
        string? key = null;
        if (connection.Role == ConnectionRole.Source)
        {
            key = ConfigurationKeys.Generate();
            connection.ConfigurationKeyHash = ConfigurationKeys.Hash(key);
            connection.ConfigurationKeyRotatedAt = now;
        }
        db.Connections.Add(connection);
        audit.Record("connection.create", $"connection:{connection.Id}", $"{connection.Role} {connection.Kind} '{connection.Name}'");
        await db.SaveChangesAsync(ct);
        return new ConnectionCreated(ConnectionView.From(connection), key);
    }

    public async Task<Outcome<ConnectionView>> UpdateAsync(Guid id, ConnectionInput input, CancellationToken ct)
    {
        var connection = await db.Connections.FirstOrDefaultAsync(c => c.Id == id, ct);
        if (connection is null)
        {
            return Failure.NotFound($"Connection {id}");
        }
        var violations = ConnectionRules.Validate(input, connection);
        if (violations.Count > 0)
        {
            return Failure.Validation(violations);
        }
        var name = input.Name!.Trim();
        if (await db.Connections.AnyAsync(c => c.Name == name && c.Id != id, ct))
        {
            return NameTaken(name);
        }
        connection.Name = name;
        connection.Kind = input.Kind;
        Apply(connection, input, time.GetUtcNow());
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (connection.Kind != ConnectionKind.EntraId && connection.BulkEnrollmentPackageBytes is not null)
        {
            // Only Entra ID connections have a package: one left from an earlier kind goes.
            await RemovePackageOfAsync(connection, ct);
        }
        audit.Record("connection.update", $"connection:{connection.Id}", $"'{connection.Name}'");
        await db.SaveChangesAsync(ct);
        await transaction.CommitRegardlessAsync();
        return ConnectionView.From(connection);
    }

    /// <summary>
    /// Stores the connection's bulk enrollment provisioning package, encrypted, replacing any earlier one. It is
    /// never read back: views show its size; only an agent holding a rejoin's lease downloads it.
    /// </summary>
    public async Task<Outcome<ConnectionView>> SetPackageAsync(Guid id, byte[] content, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(content);
        var connection = await db.Connections.FirstOrDefaultAsync(c => c.Id == id, ct);
        if (connection is null)
        {
            return Failure.NotFound($"Connection {id}");
        }
        var violations = ConnectionRules.ValidatePackage(connection, content.LongLength);
        if (violations.Count > 0)
        {
            return Failure.Validation(violations);
        }
        var package = new ConnectionPackage { ConnectionId = id, ProtectedContent = secrets.ProtectBytes(content) };
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.ConnectionPackages.Where(p => p.ConnectionId == id).ExecuteDeleteAsync(ct);
        db.ConnectionPackages.Add(package);
        connection.BulkEnrollmentPackageBytes = content.LongLength;
        connection.BulkEnrollmentPackageUploadedAt = now;
        connection.UpdatedAt = now;
        audit.Record("connection.package.set", $"connection:{id}", $"'{connection.Name}': provisioning package of {content.LongLength:N0} bytes");
        await db.SaveChangesAsync(ct);
        await transaction.CommitRegardlessAsync();
        return ConnectionView.From(connection);
    }

    /// <summary>Removes the connection's provisioning package (nothing to do when there is none).</summary>
    public async Task<Outcome<ConnectionView>> RemovePackageAsync(Guid id, CancellationToken ct)
    {
        var connection = await db.Connections.FirstOrDefaultAsync(c => c.Id == id, ct);
        if (connection is null)
        {
            return Failure.NotFound($"Connection {id}");
        }
        if (connection.BulkEnrollmentPackageBytes is null)
        {
            return ConnectionView.From(connection);
        }
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await RemovePackageOfAsync(connection, ct);
        connection.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(ct);
        await transaction.CommitRegardlessAsync();
        return ConnectionView.From(connection);
    }

    private async Task RemovePackageOfAsync(Connection connection, CancellationToken ct)
    {
        await db.ConnectionPackages.Where(p => p.ConnectionId == connection.Id).ExecuteDeleteAsync(ct);
        connection.BulkEnrollmentPackageBytes = null;
        connection.BulkEnrollmentPackageUploadedAt = null;
        audit.Record("connection.package.remove", $"connection:{connection.Id}", $"'{connection.Name}'");
    }

    public async Task<Outcome<bool>> DeleteAsync(Guid id, CancellationToken ct)
    {
        var connection = await db.Connections.FirstOrDefaultAsync(c => c.Id == id, ct);
        if (connection is null)
        {
            return Failure.NotFound($"Connection {id}");
        }
        var usedBy = await db.Projects.Where(p => p.SourceConnectionId == id || p.DestinationConnectionId == id)
            .Select(p => p.Name).ToListAsync(ct);
        if (usedBy.Count > 0)
        {
            return Failure.Conflict("ConnectionInUse",
                $"The connection '{connection.Name}' is used by the project(s) {string.Join(", ", usedBy.Select(n => $"'{n}'"))}; change or delete them first.");
        }
        db.Connections.Remove(connection);
        audit.Record("connection.delete", $"connection:{id}", $"'{connection.Name}'");
        await db.SaveChangesAsync(ct);
        return true;
    }

    /// <summary>Replaces a source's configuration key: the old one enrolls no more agents; the new one is shown once.</summary>
    public async Task<Outcome<ConfigurationKeyRotated>> RotateKeyAsync(Guid id, CancellationToken ct)
    {
        var connection = await db.Connections.FirstOrDefaultAsync(c => c.Id == id, ct);
        if (connection is null)
        {
            return Failure.NotFound($"Connection {id}");
        }
        if (connection.Role != ConnectionRole.Source)
        {
            return Failure.Conflict("NotASource", "Only source connections have a configuration key: agents enroll with the source.");
        }
        var key = ConfigurationKeys.Generate();
        var now = time.GetUtcNow();
        connection.ConfigurationKeyHash = ConfigurationKeys.Hash(key);
        connection.ConfigurationKeyRotatedAt = now;
        connection.UpdatedAt = now;
        audit.Record("connection.rotate-key", $"connection:{id}", $"'{connection.Name}'");
        await db.SaveChangesAsync(ct);
        return new ConfigurationKeyRotated(key, now);
    }

    private static Failure NameTaken(string name) => Failure.Conflict("NameTaken", $"A connection named '{name}' already exists.");

    private void Apply(Connection connection, ConnectionInput input, DateTimeOffset now)
    {
        connection.UpdatedAt = now;
        if (input.Role == ConnectionRole.Source)
        {
            var source = input.Source ?? new SourceConnectionInput();
            var adminName = string.IsNullOrWhiteSpace(source.BreakGlassAdministratorName) ? null : source.BreakGlassAdministratorName.Trim();
            connection.BreakGlassAdministratorName = adminName;
            connection.BreakGlassAdministratorPasswordProtected = adminName is null
                ? null
                : secrets.ProtectOrKeep(source.BreakGlassAdministratorPassword, connection.BreakGlassAdministratorPasswordProtected);
            ApplyEntraId(connection, source.EntraId);
            ApplyDirectoryAccess(connection, source.DomainDnsName, source.DomainController, source.UseLdaps,
                source.ServiceAccountName, source.ServiceAccountPassword);
            connection.BulkEnrollmentTokenExpiresAt = source.BulkEnrollmentTokenExpiresAt;
            return;
        }
        var destination = input.Destination!;
        connection.TargetOu = destination.TargetOu?.Trim();
        connection.RejoinMethod = destination.RejoinMethod;
        ApplyDirectoryAccess(connection, destination.DomainDnsName, destination.DomainController, destination.UseLdaps,
            destination.ServiceAccountName, destination.ServiceAccountPassword);
        connection.BulkEnrollmentTokenExpiresAt = destination.BulkEnrollmentTokenExpiresAt;
        ApplyEntraId(connection, destination.EntraId);
    }

    private void ApplyEntraId(Connection connection, EntraIdInput? entra)
    {
        connection.EntraTenantId = entra?.TenantId?.Trim();
        connection.EntraClientId = entra?.ClientId?.Trim();
        connection.EntraClientSecretProtected = entra is null
            ? null
            : secrets.ProtectOrKeep(string.IsNullOrEmpty(entra.ClientSecret) ? null : entra.ClientSecret, connection.EntraClientSecretProtected);
        connection.EntraEnabled = entra?.Enabled ?? false;
    }

    private void ApplyDirectoryAccess(Connection connection, string? domainDnsName, string? domainController, bool? useLdaps,
        string? accountName, string? password)
    {
        connection.DomainDnsName = string.IsNullOrWhiteSpace(domainDnsName) ? null : domainDnsName.Trim();
        connection.DomainController = string.IsNullOrWhiteSpace(domainController) ? null : domainController.Trim();
        connection.UseLdaps = useLdaps ?? true;
        connection.ServiceAccountName = string.IsNullOrWhiteSpace(accountName) ? null : accountName.Trim();
        connection.ServiceAccountPasswordProtected = connection.ServiceAccountName is null
            ? null
            : secrets.ProtectOrKeep(password, connection.ServiceAccountPasswordProtected);
    }
}
