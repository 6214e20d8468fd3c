using Microsoft.EntityFrameworkCore;
using Rehome.Core.Connections;
using Rehome.Server.Audit;
using Rehome.Server.Secrets;
using Rehome.Server.Store;

namespace Rehome.Server.Api;

/// <summary>/api/v1/connections: source and destination directories.</summary>
public static class ConnectionsApi
{
    public static RouteGroupBuilder MapConnectionsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/connections").WithTags("Connections");
        group.MapGet("/", ListAsync).WithName("ListConnections");
        group.MapGet("/{id:guid}", GetAsync).WithName("GetConnection");
        group.MapPost("/", CreateAsync).WithName("CreateConnection");
        group.MapPut("/{id:guid}", UpdateAsync).WithName("UpdateConnection");
        group.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteConnection");
        group.MapPost("/{id:guid}/configuration-key", RotateKeyAsync).WithName("RotateConfigurationKey")
            .WithSummary("Replaces a source connection's configuration key; the old key enrolls no more agents.");
        return api;
    }

    private static async Task<IResult> ListAsync(RehomeDbContext db, CancellationToken ct)
    {
        var connections = await db.Connections.AsNoTracking().OrderBy(c => c.Name).ToListAsync(ct);
        return Results.Ok(connections.Select(ConnectionView.From));
    }

    private static async Task<IResult> GetAsync(Guid id, RehomeDbContext db, CancellationToken ct) =>
        await db.Connections.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id, ct) is { } connection
            ? Results.Ok(ConnectionView.From(connection))
            : Problems.NotFound($"Connection {id}");

    private static async Task<IResult> CreateAsync(
        ConnectionInput input, RehomeDbContext db, SecretProtector secrets, AuditTrail audit, TimeProvider time, CancellationToken ct)
    {
        var violations = ConnectionRules.Validate(input);
        if (violations.Count > 0)
        {
            return Problems.Validation(violations);
        }
        var name = input.Name!.Trim();
        if (await db.Connections.AnyAsync(c => c.Name == name, ct))
        {
            return Problems.Conflict("NameTaken", $"A connection named '{name}' already exists.");
        }
        var now = time.GetUtcNow();
        var connection = new Connection { Id = Guid.CreateVersion7(now), Name = name, Role = input.Role, Kind = input.Kind, CreatedAt = now };
        Apply(connection, input, secrets, now);
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
        return Results.Created($"/api/v1/connections/{connection.Id}", new ConnectionCreated(ConnectionView.From(connection), key));
    }

    private static async Task<IResult> UpdateAsync(
        Guid id, ConnectionInput input, RehomeDbContext db, SecretProtector secrets, AuditTrail audit, TimeProvider time, CancellationToken ct)
    {
        var connection = await db.Connections.FirstOrDefaultAsync(c => c.Id == id, ct);
        if (connection is null)
        {
            return Problems.NotFound($"Connection {id}");
        }
        var violations = ConnectionRules.Validate(input, connection);
        if (violations.Count > 0)
        {
            return Problems.Validation(violations);
        }
        var name = input.Name!.Trim();
        if (await db.Connections.AnyAsync(c => c.Name == name && c.Id != id, ct))
        {
            return Problems.Conflict("NameTaken", $"A connection named '{name}' already exists.");
        }
        connection.Name = name;
        connection.Kind = input.Kind;
        Apply(connection, input, secrets, time.GetUtcNow());
        audit.Record("connection.update", $"connection:{connection.Id}", $"'{connection.Name}'");
        await db.SaveChangesAsync(ct);
        return Results.Ok(ConnectionView.From(connection));
    }

    private static async Task<IResult> DeleteAsync(Guid id, RehomeDbContext db, AuditTrail audit, CancellationToken ct)
    {
        var connection = await db.Connections.FirstOrDefaultAsync(c => c.Id == id, ct);
        if (connection is null)
        {
            return Problems.NotFound($"Connection {id}");
        }
        var usedBy = await db.Projects.Where(p => p.SourceConnectionId == id || p.DestinationConnectionId == id)
            .Select(p => p.Name).ToListAsync(ct);
        if (usedBy.Count > 0)
        {
            return Problems.Conflict("ConnectionInUse",
                $"The connection '{connection.Name}' is used by the project(s) {string.Join(", ", usedBy.Select(n => $"'{n}'"))}; change or delete them first.");
        }
        db.Connections.Remove(connection);
        audit.Record("connection.delete", $"connection:{id}", $"'{connection.Name}'");
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    private static async Task<IResult> RotateKeyAsync(Guid id, RehomeDbContext db, AuditTrail audit, TimeProvider time, CancellationToken ct)
    {
        var connection = await db.Connections.FirstOrDefaultAsync(c => c.Id == id, ct);
        if (connection is null)
        {
            return Problems.NotFound($"Connection {id}");
        }
        if (connection.Role != ConnectionRole.Source)
        {
            return Problems.Conflict("NotASource", "Only source connections have a configuration key: agents enroll with the source.");
        }
        var key = ConfigurationKeys.Generate();
        var now = time.GetUtcNow();
        connection.ConfigurationKeyHash = ConfigurationKeys.Hash(key);
        connection.ConfigurationKeyRotatedAt = now;
        connection.UpdatedAt = now;
        audit.Record("connection.rotate-key", $"connection:{id}", $"'{connection.Name}'");
        await db.SaveChangesAsync(ct);
        return Results.Ok(new ConfigurationKeyRotated(key, now));
    }

    private static void Apply(Connection connection, ConnectionInput input, SecretProtector secrets, DateTimeOffset now)
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
            ApplyEntraId(connection, source.EntraId, secrets);
            ApplyDirectoryAccess(connection, source.DomainDnsName, source.DomainController, source.UseLdaps,
                source.ServiceAccountName, source.ServiceAccountPassword, secrets);
            return;
        }
        var destination = input.Destination!;
        connection.TargetOu = destination.TargetOu?.Trim();
        connection.RejoinMethod = destination.RejoinMethod;
        ApplyDirectoryAccess(connection, destination.DomainDnsName, destination.DomainController, destination.UseLdaps,
            destination.ServiceAccountName, destination.ServiceAccountPassword, secrets);
        connection.BulkEnrollmentPackage = destination.BulkEnrollmentPackage?.Trim();
        connection.BulkEnrollmentTokenExpiresAt = destination.BulkEnrollmentTokenExpiresAt;
        ApplyEntraId(connection, destination.EntraId, secrets);
    }

    private static void ApplyEntraId(Connection connection, EntraIdInput? entra, SecretProtector secrets)
    {
        connection.EntraTenantId = entra?.TenantId?.Trim();
        connection.EntraClientId = entra?.ClientId?.Trim();
        connection.EntraClientSecretProtected = entra is null
            ? null
            : secrets.ProtectOrKeep(string.IsNullOrEmpty(entra.ClientSecret) ? null : entra.ClientSecret, connection.EntraClientSecretProtected);
        connection.EntraEnabled = entra?.Enabled ?? false;
    }

    private static void ApplyDirectoryAccess(Connection connection, string? domainDnsName, string? domainController, bool? useLdaps,
        string? accountName, string? password, SecretProtector secrets)
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
