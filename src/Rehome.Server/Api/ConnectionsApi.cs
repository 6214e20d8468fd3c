using Rehome.Core.Connections;
using Rehome.Server.Administration;

namespace Rehome.Server.Api;

/// <summary>/api/v1/connections: source and destination directories.</summary>
public static class ConnectionsApi
{
    public static RouteGroupBuilder MapConnectionsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/connections").WithTags("Connections");
        group.MapGet("/", async (ConnectionCommands commands, CancellationToken ct) => Results.Ok(await commands.ListAsync(ct)))
            .WithName("ListConnections");
        group.MapGet("/{id:guid}", async (Guid id, ConnectionCommands commands, CancellationToken ct) =>
            await commands.GetAsync(id, ct) is { } connection ? Results.Ok(connection) : Problems.NotFound($"Connection {id}"))
            .WithName("GetConnection");
        group.MapPost("/", async (ConnectionInput input, ConnectionCommands commands, CancellationToken ct) =>
            (await commands.CreateAsync(input, ct)).ToResult(created => Results.Created($"/api/v1/connections/{created.Connection.Id}", created)))
            .WithName("CreateConnection");
        group.MapPut("/{id:guid}", async (Guid id, ConnectionInput input, ConnectionCommands commands, CancellationToken ct) =>
            (await commands.UpdateAsync(id, input, ct)).ToResult(v => Results.Ok(v)))
            .WithName("UpdateConnection");
        group.MapDelete("/{id:guid}", async (Guid id, ConnectionCommands commands, CancellationToken ct) =>
            (await commands.DeleteAsync(id, ct)).ToResult(_ => Results.NoContent()))
            .WithName("DeleteConnection");
        group.MapPost("/{id:guid}/configuration-key", async (Guid id, ConnectionCommands commands, CancellationToken ct) =>
            (await commands.RotateKeyAsync(id, ct)).ToResult(v => Results.Ok(v)))
            .WithName("RotateConfigurationKey")
            .WithSummary("Replaces a source connection's configuration key; the old key enrolls no more agents.");
        return api;
    }
}
