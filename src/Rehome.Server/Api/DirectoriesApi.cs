using Microsoft.EntityFrameworkCore;
using Rehome.Core.Connections;
using Rehome.Core.Projects;
using Rehome.Directory;
using Rehome.Directory.ActiveDirectory;
using Rehome.Server.Audit;
using Rehome.Server.Directories;
using Rehome.Server.Directories.Connected;
using Rehome.Server.Store;

namespace Rehome.Server.Api;

/// <summary>A computer found in the source directory.</summary>
public sealed record DiscoveredComputer(string Name, string DistinguishedName, string? DnsHostName, string? OperatingSystem, bool Enabled);

/// <summary>What is held of a project's directory identities.</summary>
public sealed record ProjectIdentitiesView(bool Loaded, DateTimeOffset? LoadedAt, int SourceUsers, int SourceGroups, int DestinationUsers, int DestinationGroups,
    int Mapped, int Unmapped, IReadOnlyList<string> Problems);

/// <summary>
/// The directories behind connections and projects: connection tests, discovery of source computers (and
/// mappings made from them), the SID map's identity cache, and the readiness check before a run.
/// </summary>
public static class DirectoriesApi
{
    public static RouteGroupBuilder MapDirectoriesApi(this RouteGroupBuilder api)
    {
        var connections = api.MapGroup("/connections/{id:guid}").WithTags("Connections");
        connections.MapPost("/test", TestAsync).WithName("TestConnection");
        connections.MapGet("/computers", ListComputersAsync).WithName("DiscoverComputers");

        var projects = api.MapGroup("/projects/{projectId:guid}").WithTags("Projects");
        projects.MapPost("/mappings/discover", DiscoverAsync).WithName("AddMappingsFromDirectory");
        projects.MapGet("/identities", GetIdentitiesAsync).WithName("GetProjectIdentities");
        projects.MapPost("/identities/refresh", RefreshIdentitiesAsync).WithName("RefreshProjectIdentities");
        projects.MapPost("/readiness", ReadinessAsync).WithName("CheckReadiness");
        return api;
    }

    private static async Task<IResult> TestAsync(Guid id, RehomeDbContext db, ConnectionTester tester, CancellationToken ct)
    {
        var connection = await db.Connections.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id, ct);
        if (connection is null)
        {
            return Problems.NotFound($"Connection {id}");
        }
        var report = await tester.TestAsync(connection, ct);
        await db.SaveChangesAsync(ct);
        return Results.Ok(report);
    }

    /// <summary>Lists the computers under an OU of a connection's domain (the connection's whole domain when no OU is given).</summary>
    private static async Task<IResult> ListComputersAsync(
        Guid id, string? ou, bool? includeChildOus, int? limit, RehomeDbContext db, DirectoryClients clients, MappingDiscovery discovery, CancellationToken ct)
    {
        var connection = await db.Connections.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id, ct);
        if (connection is null)
        {
            return Problems.NotFound($"Connection {id}");
        }
        if (DirectoryClients.ActiveDirectoryGap(connection) is { } gap)
        {
            return Problems.Conflict("NotConnected", gap);
        }
        if (ou is not null && !DistinguishedNames.IsValid(ou))
        {
            return Problems.Validation("ou", "DistinguishedName", $"'{ou}' is not a distinguished name such as OU=Workstations,DC=corp,DC=example,DC=com.");
        }
        if (limit is < 1 or > 10_000)
        {
            return Problems.Validation("limit", "Range", "The limit is between 1 and 10,000.");
        }
        return await ReachAsync(async () =>
        {
            var searchBase = ou ?? (await clients.ActiveDirectory(connection).ReadDomainAsync(ct)).DistinguishedName;
            if (!await clients.ActiveDirectory(connection).ExistsAsync(searchBase, ct))
            {
                return Problems.Validation("ou", "Missing", $"{searchBase} does not exist in {connection.DomainDnsName ?? connection.Name}.");
            }
            var computers = await discovery.ListAsync(connection, searchBase, includeChildOus ?? true, limit ?? 1000, ct);
            return Results.Ok(computers.Select(c => new DiscoveredComputer(c.Name, c.DistinguishedName, c.DnsHostName, c.OperatingSystem, c.Enabled)));
        });
    }

    private static async Task<IResult> DiscoverAsync(
        Guid projectId, DiscoveryInput input, RehomeDbContext db, DirectoryClients clients, MappingDiscovery discovery, CancellationToken ct)
    {
        var source = await SourceOfAsync(db, projectId, ct);
        if (source is null)
        {
            return Problems.NotFound($"Project {projectId}");
        }
        var violations = MappingDiscovery.Validate(input);
        if (violations.Count > 0)
        {
            return Problems.Validation(violations);
        }
        if (DirectoryClients.ActiveDirectoryGap(source) is { } gap)
        {
            return Problems.Conflict("NotConnected", gap);
        }
        return await ReachAsync(async () =>
        {
            if (!await clients.ActiveDirectory(source).ExistsAsync(input.OrganizationalUnit!, ct))
            {
                return Problems.Validation("organizationalUnit", "Missing", $"{input.OrganizationalUnit} does not exist in {source.DomainDnsName ?? source.Name}.");
            }
            var outcome = await discovery.AddAsync(projectId, source, input, ct);
            return outcome.Errors.Count == 0
                ? Results.Ok(outcome)
                : Problems.Rule(StatusCodes.Status422UnprocessableEntity, "Discovered computers refused", "ImportRefused",
                    $"{outcome.Errors.Count} discovered computer(s) cannot become mappings; nothing was added.",
                    new Dictionary<string, object?> { ["errors"] = outcome.Errors });
        });
    }

    private static async Task<IResult> GetIdentitiesAsync(Guid projectId, RehomeDbContext db, ProjectIdentities identities, CancellationToken ct)
    {
        var project = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == projectId, ct);
        return project is null ? Problems.NotFound($"Project {projectId}") : Results.Ok(await ViewAsync(db, project, identities.Peek(projectId), ct));
    }

    private static async Task<IResult> RefreshIdentitiesAsync(
        Guid projectId, RehomeDbContext db, ProjectIdentities identities, AuditTrail audit, CancellationToken ct)
    {
        var project = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == projectId, ct);
        if (project is null)
        {
            return Problems.NotFound($"Project {projectId}");
        }
        var source = await db.Connections.AsNoTracking().FirstAsync(c => c.Id == project.SourceConnectionId, ct);
        var destination = await db.Connections.AsNoTracking().FirstAsync(c => c.Id == project.DestinationConnectionId, ct);
        return await ReachAsync(async () =>
        {
            var loaded = await identities.RefreshAsync(projectId, source, destination, ct);
            audit.Record("project.identities.refresh", $"project:{projectId}", $"{loaded.Source.Count} source, {loaded.Destination.Count} destination identities");
            await db.SaveChangesAsync(ct);
            return Results.Ok(await ViewAsync(db, project, loaded, ct));
        });
    }

    private static async Task<IResult> ReadinessAsync(Guid projectId, ReadinessInput? input, RehomeDbContext db, ReadinessCheck readiness, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct))
        {
            return Problems.NotFound($"Project {projectId}");
        }
        input ??= new ReadinessInput(null, null, null);
        if (input.Kinds?.Any(k => !Enum.IsDefined(k)) == true)
        {
            return Problems.Validation("kinds", "UnknownValue", "The jobs are RejoinDomain, MigratePermissions, MigrateUserProfile, MigrateEntraIdGroups and RegisterAutopilot.");
        }
        if (input.Filter is { } filter && Mappings.MappingQuery.Check(filter, null) is { } problem)
        {
            return Problems.Validation("filter", "InvalidFilter", problem);
        }
        var report = await readiness.CheckAsync(projectId, input, ct);
        return report is null
            ? Problems.Validation("mappingIds", "TooMany", $"A readiness check covers at most {ReadinessCheck.MaxMappings:N0} mappings; narrow the selection with a filter.")
            : Results.Ok(report);
    }

    private static async Task<ProjectIdentitiesView> ViewAsync(RehomeDbContext db, Project project, LoadedIdentities? loaded, CancellationToken ct)
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

    private static async Task<Connection?> SourceOfAsync(RehomeDbContext db, Guid projectId, CancellationToken ct) =>
        await (from p in db.Projects.AsNoTracking()
               join c in db.Connections.AsNoTracking() on p.SourceConnectionId equals c.Id
               where p.Id == projectId
               select c).FirstOrDefaultAsync(ct);

    /// <summary>Turns an unreachable or refusing directory into an answer that says so.</summary>
    private static async Task<IResult> ReachAsync(Func<Task<IResult>> call)
    {
        try
        {
            return await call();
        }
        catch (DirectoryUnavailableException e)
        {
            return Problems.Rule(StatusCodes.Status503ServiceUnavailable, "Directory unavailable", "DirectoryUnavailable", e.Message);
        }
        catch (Exception e) when (e is ActiveDirectoryException or Directory.EntraId.EntraIdException or InvalidOperationException)
        {
            return Problems.Rule(StatusCodes.Status502BadGateway, "Directory refused", "DirectoryRefused", e.Message);
        }
    }
}
