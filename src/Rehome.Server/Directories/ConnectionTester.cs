using Rehome.Core.Connections;
using Rehome.Directory;
using Rehome.Server.Audit;
using Rehome.Server.Gateway;

namespace Rehome.Server.Directories;

/// <summary>One part of a connection (its domain, its tenant) and what testing it found.</summary>
public sealed record ConnectionTestPart(string Part, bool Succeeded, IReadOnlyList<ConnectionCheck> Checks);

/// <summary>A connection test: every part the connection has, each check with its result.</summary>
public sealed record ConnectionTestReport(Guid ConnectionId, string ConnectionName, bool Succeeded, IReadOnlyList<ConnectionTestPart> Parts, DateTimeOffset TestedAt);

/// <summary>
/// Tests a connection against its real directories: binds to the domain and reads it (and, for a
/// destination, checks the target OU), reads the Entra ID tenant and probes each permission Rehome uses,
/// and checks the bulk enrollment token's expiry. Never throws for a failed check: each says what failed.
/// </summary>
public sealed class ConnectionTester(DirectoryClients clients, AuditTrail audit, TimeProvider time)
{
    public async Task<ConnectionTestReport> TestAsync(Connection connection, CancellationToken ct)
    {
        var parts = new List<ConnectionTestPart>();
        if (connection.Kind is ConnectionKind.ActiveDirectory or ConnectionKind.HybridIdentity)
        {
            parts.Add(await ActiveDirectoryAsync(connection, ct));
        }
        if (connection.Kind == ConnectionKind.EntraId || connection.EntraTenantId is not null)
        {
            parts.Add(await PartAsync("Entra ID", DirectoryClients.EntraIdGap(connection),
                () => clients.EntraId(connection).TestConnectionAsync(ct)));
        }
        if (connection.Kind == ConnectionKind.EntraId && (connection.Role == ConnectionRole.Source || connection.RejoinMethod == RejoinMethod.Offline))
        {
            parts.Add(BulkEnrollment(connection));
        }
        var report = new ConnectionTestReport(connection.Id, connection.Name, parts.Count > 0 && parts.All(p => p.Succeeded), parts, time.GetUtcNow());
        audit.Record("connection.test", $"connection:{connection.Id}", report.Succeeded ? "passed" : "failed");
        return report;
    }

    private async Task<ConnectionTestPart> ActiveDirectoryAsync(Connection connection, CancellationToken ct)
    {
        var part = await PartAsync("Active Directory", DirectoryClients.ActiveDirectoryGap(connection),
            () => clients.ActiveDirectory(connection).TestConnectionAsync(ct));
        if (!part.Succeeded || connection.Role != ConnectionRole.Destination || connection.TargetOu is not { } ou)
        {
            return part;
        }
        ConnectionCheck check;
        try
        {
            var exists = await clients.ActiveDirectory(connection).ExistsAsync(ou, ct);
            check = new ConnectionCheck("Target OU", exists, exists ? $"{ou} exists." : $"{ou} does not exist; create it or change the connection's target OU.");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            check = new ConnectionCheck("Target OU", false, e.Message);
        }
        return part with { Succeeded = check.Passed, Checks = [.. part.Checks, check] };
    }

    private static async Task<ConnectionTestPart> PartAsync(string name, string? gap, Func<Task<ConnectionTestResult>> test)
    {
        if (gap is not null)
        {
            return new ConnectionTestPart(name, false, [new ConnectionCheck("Configuration", false, gap)]);
        }
        try
        {
            var result = await test();
            return new ConnectionTestPart(name, result.Succeeded, result.Checks);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new ConnectionTestPart(name, false, [new ConnectionCheck("Reach", false, e.Message)]);
        }
    }

    private ConnectionTestPart BulkEnrollment(Connection connection)
    {
        var gap = ReturnTickets.PackageGap(connection);
        var package = new ConnectionCheck("Provisioning package", gap is null,
            gap ?? $"Uploaded {connection.BulkEnrollmentPackageUploadedAt:yyyy-MM-dd} ({connection.BulkEnrollmentPackageBytes:N0} bytes).");
        var expires = connection.BulkEnrollmentTokenExpiresAt;
        var now = time.GetUtcNow();
        var check = expires is null ? new ConnectionCheck("Bulk enrollment token", false, "No expiry date is recorded for the bulk enrollment token.")
            : expires <= now ? new ConnectionCheck("Bulk enrollment token", false, $"The bulk enrollment token expired on {expires:yyyy-MM-dd}; make a new provisioning package.")
            : new ConnectionCheck("Bulk enrollment token", true, $"Valid until {expires:yyyy-MM-dd} ({(expires.Value - now).TotalDays:0} days).");
        // A source's expiry date is optional (its package is only the way back); a destination's is required.
        return connection.Role == ConnectionRole.Source && expires is null
            ? new ConnectionTestPart("Bulk enrollment", package.Passed, [package])
            : new ConnectionTestPart("Bulk enrollment", package.Passed && check.Passed, [package, check]);
    }
}
