using Microsoft.EntityFrameworkCore;
using Rehome.Directory;
using Rehome.Directory.ActiveDirectory;
using Rehome.Server.Directories;
using Rehome.Server.Mappings;
using Rehome.Server.Store;

namespace Rehome.Server.Administration;

/// <summary>
/// The directories behind connections and projects as the API and the console ask them: a connection test,
/// mappings added from the source directory, the readiness check before a run. An unreachable or refusing
/// directory is a failure that says so, not an exception.
/// </summary>
public sealed class DirectoryCommands(
    RehomeDbContext db, ConnectionTester tester, DirectoryClients clients, MappingDiscovery discovery, ReadinessCheck readiness)
{
    public async Task<Outcome<ConnectionTestReport>> TestConnectionAsync(Guid id, CancellationToken ct)
    {
        var connection = await db.Connections.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id, ct);
        if (connection is null)
        {
            return Failure.NotFound($"Connection {id}");
        }
        var report = await tester.TestAsync(connection, ct);
        await db.SaveChangesAsync(ct);
        return report;
    }

    /// <summary>Adds the computers of an OU of the project's source domain as mappings, all or nothing.</summary>
    public async Task<Outcome<DiscoveryOutcome>> DiscoverAsync(Guid projectId, DiscoveryInput input, CancellationToken ct)
    {
        var source = await (from p in db.Projects.AsNoTracking()
                            join c in db.Connections.AsNoTracking() on p.SourceConnectionId equals c.Id
                            where p.Id == projectId
                            select c).FirstOrDefaultAsync(ct);
        if (source is null)
        {
            return Failure.NotFound($"Project {projectId}");
        }
        var violations = MappingDiscovery.Validate(input);
        if (violations.Count > 0)
        {
            return Failure.Validation(violations);
        }
        if (DirectoryClients.ActiveDirectoryGap(source) is { } gap)
        {
            return Failure.Conflict("NotConnected", gap);
        }
        return await ReachAsync<DiscoveryOutcome>(async () =>
        {
            if (!await clients.ActiveDirectory(source).ExistsAsync(input.OrganizationalUnit!, ct))
            {
                return Failure.Validation("organizationalUnit", "Missing", $"{input.OrganizationalUnit} does not exist in {source.DomainDnsName ?? source.Name}.");
            }
            var outcome = await discovery.AddAsync(projectId, source, input, ct);
            return outcome.Errors.Count == 0
                ? outcome
                : Failure.ByRule(StatusCodes.Status422UnprocessableEntity, "Discovered computers refused", "ImportRefused",
                    $"{outcome.Errors.Count} discovered computer(s) cannot become mappings; nothing was added.",
                    new Dictionary<string, object?> { ["errors"] = outcome.Errors });
        });
    }

    /// <summary>The readiness check (pre-analysis) of the selected mappings for the chosen jobs.</summary>
    public async Task<Outcome<ReadinessReport>> ReadinessAsync(Guid projectId, ReadinessInput? input, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct))
        {
            return Failure.NotFound($"Project {projectId}");
        }
        input ??= new ReadinessInput(null, null, null);
        if (input.Kinds?.Any(k => !Enum.IsDefined(k)) == true)
        {
            return Failure.Validation("kinds", "UnknownValue", "The jobs are RejoinDomain, MigratePermissions, MigrateUserProfile, MigrateEntraIdGroups and RegisterAutopilot.");
        }
        if (input.Filter is { } filter && MappingQuery.Check(filter, null) is { } problem)
        {
            return Failure.Validation("filter", "InvalidFilter", problem);
        }
        var report = await readiness.CheckAsync(projectId, input, ct);
        return report is null
            ? Failure.Validation("mappingIds", "TooMany", $"A readiness check covers at most {ReadinessCheck.MaxMappings:N0} mappings; narrow the selection with a filter.")
            : report;
    }

    /// <summary>Turns an unreachable or refusing directory into a failure that says so.</summary>
    public static async Task<Outcome<T>> ReachAsync<T>(Func<Task<Outcome<T>>> call)
    {
        try
        {
            return await call();
        }
        catch (DirectoryUnavailableException e)
        {
            return Failure.ByRule(StatusCodes.Status503ServiceUnavailable, "Directory unavailable", "DirectoryUnavailable", e.Message);
        }
        catch (Exception e) when (e is ActiveDirectoryException or Directory.EntraId.EntraIdException or InvalidOperationException)
        {
            return Failure.ByRule(StatusCodes.Status502BadGateway, "Directory refused", "DirectoryRefused", e.Message);
        }
    }
}
