using Rehome.Server.Administration;
using Rehome.Server.Auth;
using Rehome.Server.Directories;

namespace Rehome.Server.Api;

/// <summary>
/// The directories behind connections and projects: connection tests, discovery of source computers (and
/// mappings made from them), the SID map's identity cache, and the readiness check before a run.
/// </summary>
public static class DirectoriesApi
{
    public static RouteGroupBuilder MapDirectoriesApi(this RouteGroupBuilder api)
    {
        var connections = api.MapGroup("/connections/{id:guid}").WithTags("Connections");
        connections.MapPost("/test", TestAsync).WithName("TestConnection").RequireRole(Role.Administrator);
        connections.MapGet("/computers", ListComputersAsync).WithName("DiscoverComputers").RequireRole(Role.Operator);

        var projects = api.MapGroup("/projects/{projectId:guid}").WithTags("Projects");
        projects.MapPost("/mappings/discover", DiscoverAsync).WithName("AddMappingsFromDirectory").RequireRole(Role.Operator);
        projects.MapGet("/identities", GetIdentitiesAsync).WithName("GetProjectIdentities").RequireRole(Role.Viewer);
        projects.MapPost("/identities/refresh", RefreshIdentitiesAsync).WithName("RefreshProjectIdentities").RequireRole(Role.Operator);
        projects.MapPost("/readiness", ReadinessAsync).WithName("CheckReadiness").RequireRole(Role.Operator);
        return api;
    }

    private static async Task<IResult> TestAsync(Guid id, DirectoryCommands directories, CancellationToken ct) =>
        (await directories.TestConnectionAsync(id, ct)).ToResult(report => Results.Ok(report));

    /// <summary>Lists the computers under an OU of a connection's domain (the connection's whole domain when no OU is given).</summary>
    private static async Task<IResult> ListComputersAsync(Guid id, string? ou, bool? includeChildOus, int? limit, DirectoryCommands directories, CancellationToken ct) =>
        (await directories.ListComputersAsync(id, ou, includeChildOus ?? true, limit ?? 1000, ct)).ToResult(computers => Results.Ok(computers));

    private static async Task<IResult> DiscoverAsync(Guid projectId, DiscoveryInput input, DirectoryCommands directories, CancellationToken ct) =>
        (await directories.DiscoverAsync(projectId, input, ct)).ToResult(outcome => Results.Ok(outcome));

    private static async Task<IResult> GetIdentitiesAsync(Guid projectId, DirectoryCommands directories, CancellationToken ct) =>
        (await directories.IdentitiesAsync(projectId, refresh: false, ct)).ToResult(view => Results.Ok(view));

    private static async Task<IResult> RefreshIdentitiesAsync(Guid projectId, DirectoryCommands directories, CancellationToken ct) =>
        (await directories.IdentitiesAsync(projectId, refresh: true, ct)).ToResult(view => Results.Ok(view));

    private static async Task<IResult> ReadinessAsync(Guid projectId, ReadinessInput? input, DirectoryCommands directories, CancellationToken ct) =>
        (await directories.ReadinessAsync(projectId, input, ct)).ToResult(report => Results.Ok(report));
}
