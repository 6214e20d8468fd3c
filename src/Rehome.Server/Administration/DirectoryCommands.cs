using Microsoft.EntityFrameworkCore;
using Rehome.Core.Cleanup;
using Rehome.Core.Connections;
using Rehome.Server.Audit;
using Rehome.Server.Directories;
using Rehome.Server.Directories.Connected;
using Rehome.Server.Mappings;
using Rehome.Server.Store;

namespace Rehome.Server.Administration;

/// <summary>
/// The directories behind connections and projects as the API and the console ask them: a connection test,
/// mappings added from the source directory, the readiness check before a run. An unreachable or refusing
/// directory is a failure that says so, not an exception.
/// </summary>
public sealed class DirectoryCommands(
    RehomeDbContext db, ConnectionTester tester, DirectoryClients clients, MappingDiscovery discovery, ReadinessCheck readiness,
    ProjectIdentities identities, AuditTrail audit, Notifications.NotificationOutbox notifications)
{
    /// <summary>What is held of the project's users and groups (the SID map's source), read again first when <paramref name="refresh"/>.</summary>
    public async Task<Outcome<ProjectIdentitiesView>> IdentitiesAsync(Guid projectId, bool refresh, CancellationToken ct)
    {
        var project = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == projectId, ct);
        if (project is null)
        {
            return Failure.NotFound($"Project {projectId}");
        }
        if (!refresh)
        {
            return await ViewAsync(project, identities.Peek(projectId), ct);
        }
        var source = await db.Connections.AsNoTracking().FirstAsync(c => c.Id == project.SourceConnectionId, ct);
        var destination = await db.Connections.AsNoTracking().FirstAsync(c => c.Id == project.DestinationConnectionId, ct);
        return await ReachAsync<ProjectIdentitiesView>(async () =>
        {
            var loaded = await identities.RefreshAsync(projectId, source, destination, ct);
            audit.Record("project.identities.refresh", $"project:{projectId}", $"{loaded.Source.Count} source, {loaded.Destination.Count} destination identities");
            await db.SaveChangesAsync(ct);
            return await ViewAsync(project, loaded, ct);
        });
    }

    private async Task<ProjectIdentitiesView> ViewAsync(Core.Projects.Project project, LoadedIdentities? loaded, CancellationToken ct)
    {
        if (loaded is null)
        {
            return new ProjectIdentitiesView(false, null, 0, 0, 0, 0, 0, 0, []);
        }
        var policy = await db.Policies.AsNoTracking().Where(p => p.Id == project.PolicyId).Select(p => p.Settings).FirstAsync(ct);
        var map = loaded.MapFor(policy);
        static int Count(IEnumerable<Security.Reacl.DirectoryIdentity> identities, Security.Reacl.IdentityKind kind) => identities.Count(i => i.Kind == kind);
        return new ProjectIdentitiesView(true, loaded.LoadedAt,
            Count(loaded.Source, Security.Reacl.IdentityKind.User), Count(loaded.Source, Security.Reacl.IdentityKind.Group),
            Count(loaded.Destination, Security.Reacl.IdentityKind.User), Count(loaded.Destination, Security.Reacl.IdentityKind.Group),
            map.Map.Count, map.Unmapped.Count, [.. map.Problems.Select(p => $"{p.Mapping.Source} → {p.Mapping.Destination}: {p.Reason}")]);
    }

    public async Task<Outcome<ConnectionTestReport>> TestConnectionAsync(Guid id, CancellationToken ct)
    {
        var connection = await db.Connections.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id, ct);
        if (connection is null)
        {
            return Failure.NotFound($"Connection {id}");
        }
        var report = await tester.TestAsync(connection, ct);
        await notifications.ConnectionTestFailedAsync(report, ct);
        await db.SaveChangesAsync(ct);
        return report;
    }

    /// <summary>The computers under an OU of a connection's domain (its whole domain when no OU is given), paged from the DC.</summary>
    public async Task<Outcome<IReadOnlyList<DiscoveredComputer>>> ListComputersAsync(
        Guid connectionId, string? ou, bool includeChildOus, int limit, CancellationToken ct)
    {
        var connection = await db.Connections.AsNoTracking().FirstOrDefaultAsync(c => c.Id == connectionId, ct);
        // An account limited to projects discovers only in the sources of its projects (the filter hides the others).
        if (connection is null || (db.VisibleProjects is not null && !await db.Projects.AnyAsync(p => p.SourceConnectionId == connectionId, ct)))
        {
            return Failure.NotFound($"Connection {connectionId}");
        }
        if (DirectoryClients.ActiveDirectoryGap(connection) is { } gap)
        {
            return Failure.Conflict("NotConnected", gap);
        }
        if (ou is not null && !DistinguishedNames.IsValid(ou))
        {
            return Failure.Validation("ou", "DistinguishedName", $"'{ou}' is not a distinguished name such as OU=Workstations,DC=corp,DC=example,DC=com.");
        }
        if (limit is < 1 or > 10_000)
        {
            return Failure.Validation("limit", "Range", "The limit is between 1 and 10,000.");
        }
        return await ReachAsync<IReadOnlyList<DiscoveredComputer>>(async () =>
        {
            var searchBase = ou ?? (await clients.ActiveDirectory(connection).ReadDomainAsync(ct)).DistinguishedName;
            if (!await clients.ActiveDirectory(connection).ExistsAsync(searchBase, ct))
            {
                return Failure.Validation("ou", "Missing", $"{searchBase} does not exist in {connection.DomainDnsName ?? connection.Name}.");
            }
            var computers = await discovery.ListAsync(connection, searchBase, includeChildOus, limit, ct);
            return computers.Select(c => new DiscoveredComputer(c.Name, c.DistinguishedName, c.DnsHostName, c.OperatingSystem, c.Enabled)).ToList();
        });
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
        // Asked before the directory is; the import asks again under the project's lock.
        if (await ArchivedProjects.RefuseAsync(db, projectId, ArchivedAction.Import, ct) is { } archived)
        {
            return archived;
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
            if (outcome.Refused is { } refused)
            {
                return Failure.Conflict(refused.Rule, refused.Message);
            }
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
        if (input.Filter is { } filter && MappingQuery.Check(filter, null, "filter.") is { } problem)
        {
            return Failure.Validation([problem]);
        }
        var report = await readiness.CheckAsync(projectId, input, ct);
        if (report is null)
        {
            return Failure.Validation("mappingIds", "TooMany", $"A readiness check covers at most {ReadinessCheck.MaxMappings:N0} mappings; narrow the selection with a filter.");
        }
        await readiness.RecordAsync(report, ct);
        return report;
    }

    /// <summary>Turns an unreachable or refusing directory into a failure that says so.</summary>
    public static async Task<Outcome<T>> ReachAsync<T>(Func<Task<Outcome<T>>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (DirectoryFailures.Classify(e) is { Kind: not DirectoryFailureKind.Defect } failure)
        {
            // A defect is not the directory's answer: it surfaces as one (500, logged), not as a refusal.
            return failure.MayRetry
                ? Failure.ByRule(StatusCodes.Status503ServiceUnavailable, "Directory unavailable", failure.Code, failure.Reason)
                : Failure.ByRule(StatusCodes.Status502BadGateway, "Directory refused", failure.Code, failure.Reason);
        }
    }
}
