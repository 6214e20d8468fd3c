using Rehome.Server.Administration;
using Rehome.Server.Auth;

namespace Rehome.Server.Api;

public sealed record ProjectInput(string? Name, List<string>? Tags, Guid SourceConnectionId, Guid DestinationConnectionId, Guid PolicyId);

/// <summary>A project with how many of its mappings stand in each status (<c>NotStarted</c> for those never run).</summary>
public sealed record ProjectView(
    Guid Id, string Name, IReadOnlyList<string> Tags, Guid SourceConnectionId, Guid DestinationConnectionId, Guid PolicyId,
    int MappingCount, IReadOnlyDictionary<string, int> MappingsByStatus, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    /// <summary>Set when the project is archived (read-only, its reports in a zip): when and by whom.</summary>
    public DateTimeOffset? ArchivedAt { get; init; }

    public string? ArchivedBy { get; init; }
}

/// <summary>/api/v1/projects.</summary>
public static class ProjectsApi
{
    public static RouteGroupBuilder MapProjectsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/projects").WithTags("Projects");
        // archived=true lists the archived projects, which the default list leaves out.
        group.MapGet("/", async (bool? archived, ProjectCommands commands, CancellationToken ct) => Results.Ok(await commands.ListAsync(archived ?? false, ct)))
            .WithName("ListProjects").RequireRole(Role.Viewer);
        group.MapGet("/{id:guid}", async (Guid id, ProjectCommands commands, CancellationToken ct) =>
            await commands.GetAsync(id, ct) is { } project ? Results.Ok(project) : Problems.NotFound($"Project {id}")).WithName("GetProject").RequireRole(Role.Viewer);
        group.MapPost("/", async (ProjectInput input, ProjectCommands commands, CancellationToken ct) =>
            (await commands.CreateAsync(input, ct)).ToResult(project => Results.Created($"/api/v1/projects/{project.Id}", project))).WithName("CreateProject").RequireRole(Role.Operator);
        group.MapPut("/{id:guid}", async (Guid id, ProjectInput input, ProjectCommands commands, CancellationToken ct) =>
            (await commands.UpdateAsync(id, input, ct)).ToResult(project => Results.Ok(project))).WithName("UpdateProject").RequireRole(Role.Operator);
        group.MapDelete("/{id:guid}", async (Guid id, ProjectCommands commands, CancellationToken ct) =>
            (await commands.DeleteAsync(id, ct)).ToResult(_ => Results.NoContent())).WithName("DeleteProject").RequireRole(Role.Operator);
        return api;
    }
}
