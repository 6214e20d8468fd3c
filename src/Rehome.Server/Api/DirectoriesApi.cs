using Microsoft.EntityFrameworkCore;
using Rehome.Core.Connections;
using Rehome.Server.Administration;
using Rehome.Server.Directories;
using Rehome.Server.Store;

namespace Rehome.Server.Api;

/// <summary>A computer found in the source directory.</summary>
public sealed record DiscoveredComputer(string Name, string DistinguishedName, string? DnsHostName, string? OperatingSystem, bool Enabled);

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

    private static async Task<IResult> TestAsync(Guid id, DirectoryCommands directories, CancellationToken ct) =>
        (await directories.TestConnectionAsync(id, ct)).ToResult(report => Results.Ok(report));

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

    private static async Task<IResult> DiscoverAsync(Guid projectId, DiscoveryInput input, DirectoryCommands directories, CancellationToken ct) =>
        (await directories.DiscoverAsync(projectId, input, ct)).ToResult(outcome => Results.Ok(outcome));

    private static async Task<IResult> GetIdentitiesAsync(Guid projectId, DirectoryCommands directories, CancellationToken ct) =>
        (await directories.IdentitiesAsync(projectId, refresh: false, ct)).ToResult(view => Results.Ok(view));

    private static async Task<IResult> RefreshIdentitiesAsync(Guid projectId, DirectoryCommands directories, CancellationToken ct) =>
        (await directories.IdentitiesAsync(projectId, refresh: true, ct)).ToResult(view => Results.Ok(view));

    private static async Task<IResult> ReadinessAsync(Guid projectId, ReadinessInput? input, DirectoryCommands directories, CancellationToken ct) =>
        (await directories.ReadinessAsync(projectId, input, ct)).ToResult(report => Results.Ok(report));

    /// <summary>Turns an unreachable or refusing directory into an answer that says so.</summary>
    private static async Task<IResult> ReachAsync(Func<Task<IResult>> call) =>
        (await DirectoryCommands.ReachAsync(async () => new Outcome<IResult>(await call(), null))).ToResult(result => result);
}
