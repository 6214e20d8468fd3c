using Rehome.Core.Policies;
using Rehome.Server.Administration;
using Rehome.Server.Auth;

namespace Rehome.Server.Api;

/// <summary>What an administrator sends to create or update a policy; settings left out take their defaults.</summary>
public sealed record PolicyInput(string? Name, PolicySettings? Settings);

/// <summary>/api/v1/policies: migration policies.</summary>
public static class PoliciesApi
{
    public static RouteGroupBuilder MapPoliciesApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/policies").WithTags("Policies");
        group.MapGet("/", async (PolicyCommands commands, CancellationToken ct) => Results.Ok(await commands.ListAsync(ct))).WithName("ListPolicies").RequireRole(Role.Viewer);
        group.MapGet("/{id:guid}", async (Guid id, PolicyCommands commands, CancellationToken ct) =>
            await commands.GetAsync(id, ct) is { } policy ? Results.Ok(policy) : Problems.NotFound($"Policy {id}")).WithName("GetPolicy").RequireRole(Role.Viewer);
        group.MapPost("/", async (PolicyInput input, PolicyCommands commands, CancellationToken ct) =>
            (await commands.CreateAsync(input, ct)).ToResult(policy => Results.Created($"/api/v1/policies/{policy.Id}", policy))).WithName("CreatePolicy").RequireRole(Role.Administrator);
        group.MapPut("/{id:guid}", async (Guid id, PolicyInput input, PolicyCommands commands, CancellationToken ct) =>
            (await commands.UpdateAsync(id, input, ct)).ToResult(policy => Results.Ok(policy))).WithName("UpdatePolicy").RequireRole(Role.Administrator);
        group.MapDelete("/{id:guid}", async (Guid id, PolicyCommands commands, CancellationToken ct) =>
            (await commands.DeleteAsync(id, ct)).ToResult(_ => Results.NoContent())).WithName("DeletePolicy").RequireRole(Role.Administrator);
        return api;
    }
}
