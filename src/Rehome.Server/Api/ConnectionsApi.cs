using Rehome.Core.Connections;
using Rehome.Server.Administration;
using Rehome.Server.Auth;

namespace Rehome.Server.Api;

/// <summary>/api/v1/connections: source and destination directories.</summary>
public static class ConnectionsApi
{
    public static RouteGroupBuilder MapConnectionsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/connections").WithTags("Connections");
        group.MapGet("/", async (ConnectionCommands commands, CancellationToken ct) => Results.Ok(await commands.ListAsync(ct)))
            .WithName("ListConnections").RequireRole(Role.Viewer);
        group.MapGet("/{id:guid}", async (Guid id, ConnectionCommands commands, CancellationToken ct) =>
            await commands.GetAsync(id, ct) is { } connection ? Results.Ok(connection) : Problems.NotFound($"Connection {id}"))
            .WithName("GetConnection").RequireRole(Role.Viewer);
        group.MapPost("/", async (ConnectionInput input, ConnectionCommands commands, CancellationToken ct) =>
            (await commands.CreateAsync(input, ct)).ToResult(created => Results.Created($"/api/v1/connections/{created.Connection.Id}", created)))
            .WithName("CreateConnection").RequireRole(Role.Administrator);
        group.MapPut("/{id:guid}", async (Guid id, ConnectionInput input, ConnectionCommands commands, CancellationToken ct) =>
            (await commands.UpdateAsync(id, input, ct)).ToResult(v => Results.Ok(v)))
            .WithName("UpdateConnection").RequireRole(Role.Administrator);
        group.MapDelete("/{id:guid}", async (Guid id, ConnectionCommands commands, CancellationToken ct) =>
            (await commands.DeleteAsync(id, ct)).ToResult(_ => Results.NoContent()))
            .WithName("DeleteConnection").RequireRole(Role.Administrator);
        group.MapPost("/{id:guid}/configuration-key", async (Guid id, ConnectionCommands commands, CancellationToken ct) =>
            (await commands.RotateKeyAsync(id, ct)).ToResult(v => Results.Ok(v)))
            .WithName("RotateConfigurationKey").RequireRole(Role.Administrator)
            .WithSummary("Replaces a source connection's configuration key; the old key enrolls no more agents.");
        group.MapPut("/{id:guid}/bulk-enrollment-package", SetPackageAsync)
            .WithName("SetBulkEnrollmentPackage").RequireRole(Role.Administrator)
            .WithSummary("Uploads an Entra ID connection's bulk enrollment provisioning package (the raw .ppkg file); it is stored encrypted and never returned.");
        group.MapDelete("/{id:guid}/bulk-enrollment-package", async (Guid id, ConnectionCommands commands, CancellationToken ct) =>
            (await commands.RemovePackageAsync(id, ct)).ToResult(_ => Results.NoContent()))
            .WithName("RemoveBulkEnrollmentPackage").RequireRole(Role.Administrator);
        return api;
    }

    private static async Task<IResult> SetPackageAsync(Guid id, HttpRequest request, ConnectionCommands commands, CancellationToken ct)
    {
        const long limit = ConnectionRules.BulkEnrollmentPackageMaxBytes;
        if (request.ContentLength > limit)
        {
            return TooLarge();
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
                return TooLarge();
            }
            content.Write(buffer, 0, read);
        }
        return (await commands.SetPackageAsync(id, content.ToArray(), ct)).ToResult(v => Results.Ok(v));
    }

    private static IResult TooLarge() => Problems.Rule(StatusCodes.Status413PayloadTooLarge, "Package too large", "PackageTooLarge",
        $"A bulk enrollment provisioning package is at most {ConnectionRules.BulkEnrollmentPackageMaxBytes / (1024 * 1024)} MiB.");
}
