using Rehome.Server.Administration;
using Rehome.Server.Auth;

namespace Rehome.Server.Api;

/// <summary>/api/v1/agent-packages: signed agent packages, the version agents should run, the fleet's versions.</summary>
public static class AgentPackagesApi
{
    public static RouteGroupBuilder MapAgentPackagesApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/agent-packages").WithTags("Agent packages");
        group.MapGet("/", async (AgentUpdateCommands commands, CancellationToken ct) => Results.Ok(await commands.ListAsync(ct)))
            .WithName("ListAgentPackages").RequireRole(Role.Viewer);
        group.MapPost("/", UploadAsync).WithName("UploadAgentPackage").RequireRole(Role.Administrator)
            .WithSummary("Uploads an agent package: the zip as the body, ?version=1.4.2&signature=<base64 detached signature by a configured publisher key>.");
        group.MapPut("/current", async (SetCurrentAgentPackage? request, AgentUpdateCommands commands, CancellationToken ct) =>
            (await commands.SetCurrentAsync(request, ct)).ToResult(_ => Results.NoContent()))
            .WithName("SetCurrentAgentPackage").RequireRole(Role.Administrator)
            .WithSummary("Marks the version agents should run (packageId null clears it); with connectionId, for that source connection's agents only.");
        group.MapDelete("/{id:guid}", async (Guid id, AgentUpdateCommands commands, CancellationToken ct) =>
            (await commands.DeleteAsync(id, ct)).ToResult(_ => Results.NoContent())).WithName("DeleteAgentPackage").RequireRole(Role.Administrator);
        return api;
    }

    private static async Task<IResult> UploadAsync(string? version, string? signature, HttpRequest request, AgentUpdateCommands commands, CancellationToken ct)
    {
        var limit = commands.MaxPackageBytes;
        if (request.ContentLength > limit)
        {
            return Problems.From(AgentUpdateCommands.TooLarge(limit));
        }
        // Kestrel's own limit (30,000,000 bytes) would cut the body first and answer 500; this endpoint's is ours.
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = limit + 1;
        }
        using var content = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(buffer, ct)) > 0)
        {
            if (content.Length + read > limit)
            {
                return Problems.From(AgentUpdateCommands.TooLarge(limit));
            }
            content.Write(buffer, 0, read);
        }
        return (await commands.UploadAsync(version, signature, content.ToArray(), ct)).ToResult(v => Results.Created($"/api/v1/agent-packages/{v.Id}", v));
    }
}
