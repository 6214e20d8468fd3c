using Rehome.Server.Administration;
using Rehome.Server.Auth;
using Rehome.Server.Console;

namespace Rehome.Server.Api;

/// <summary>
/// After the migration: /api/v1/projects/{id}/mappings/remove-completed, /agents/uninstall, /archive, /unarchive and
/// /archive.zip (the last also under /console for the console's cookie, with the same role).
/// </summary>
public static class CleanupApi
{
    public static RouteGroupBuilder MapCleanupApi(this RouteGroupBuilder api)
    {
        var project = api.MapGroup("/projects/{id:guid}").WithTags("After the migration");
        project.MapPost("/mappings/remove-completed", async (Guid id, CleanupSelection? selection, CleanupCommands cleanup, CancellationToken ct) =>
                (await cleanup.RemoveCompletedAsync(id, selection ?? new(null, null), ct)).ToResult(Results.Ok))
            .WithName("RemoveCompletedMappings").RequireRole(Role.Operator)
            .WithSummary("Removes the project's mappings (all, mappingIds or a filter) whose every job kind ended Finished, with their jobs; answers how many were kept and why.");
        project.MapPost("/agents/uninstall", async (Guid id, CleanupSelection? selection, CleanupCommands cleanup, CancellationToken ct) =>
                (await cleanup.UninstallCompletedAgentsAsync(id, selection ?? new(null, null), ct)).ToResult(Results.Ok))
            .WithName("UninstallCompletedAgents").RequireRole(Role.Administrator)
            .WithSummary("Tells the agents of the project's completed mappings to uninstall themselves; answers how many mappings were kept and why.");
        project.MapPost("/archive", async (Guid id, ArchiveCommands archives, CancellationToken ct) =>
                (await archives.ArchiveAsync(id, ct)).ToResult(Results.Ok))
            .WithName("ArchiveProject").RequireRole(Role.Administrator)
            .WithSummary("Renders the project's reports into one zip kept with it and makes it read-only; refused while a job waits or runs.");
        project.MapPost("/unarchive", async (Guid id, ArchiveCommands archives, CancellationToken ct) =>
                (await archives.UnarchiveAsync(id, ct)).ToResult(_ => Results.NoContent()))
            .WithName("UnarchiveProject").RequireRole(Role.Administrator);
        project.MapGet("/archive.zip", DownloadAsync).WithName("DownloadProjectArchive").RequireRole(Role.Viewer).Produces<byte[]>(200, "application/zip");
        return api;
    }

    /// <summary>The archive's download for the console's cookie (the API is bearer-only).</summary>
    public static WebApplication MapConsoleArchives(this WebApplication app)
    {
        app.MapGet("/console/projects/{id:guid}/archive.zip", DownloadAsync).ExcludeFromDescription()
            .RequireAuthorization(ConsoleServiceCollectionExtensions.PolicyName, RoleAuthorization.ConsolePolicyFor(Role.Viewer));
        return app;
    }

    /// <summary>Where the console offers an archived project's zip.</summary>
    public static string ConsoleArchiveLink(Guid projectId) => $"/console/projects/{projectId}/archive.zip";

    /// <summary>The zip holds the audit (audit.csv) only for a caller whose role covers Auditor, as the audit log's own endpoints.</summary>
    private static async Task<IResult> DownloadAsync(Guid id, HttpContext http, ArchiveCommands archives, CancellationToken ct) =>
        (await archives.DownloadAsync(id, Roles.Of(http.User) is { } role && Roles.Covers(role, Role.Auditor), ct))
            .ToResult(file => Results.File(file.Content, "application/zip", file.FileName));
}
