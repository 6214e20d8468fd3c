using Rehome.Core.Runs;
using Rehome.Server.Administration;
using Rehome.Server.Auth;

namespace Rehome.Server.Api;

/// <summary>An agent as the administrator sees it.</summary>
public sealed record AgentView(
    Guid Id, string DeviceName, string State, DateTimeOffset LastSeenAt, DateTimeOffset EnrolledAt, string AgentVersion, string OsVersion,
    string JoinType, string? DomainName, string? TenantId, IReadOnlyList<string> LoggedOnUsers, Guid? MappingId, AgentJobView? CurrentJob,
    DateTimeOffset? RevokedAt, string? RevokedBy);

public sealed record AgentJobView(Guid Id, Guid RunId, JobKind Kind, string KindName, string? Step, int ItemsDone, int ItemsTotal);

/// <summary>/api/v1/agents: the enrolled agents, their state, and revocation.</summary>
public static class AgentsApi
{
    public static RouteGroupBuilder MapAgentsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/agents").WithTags("Agents");
        // state is online, offline or revoked; search matches device names.
        group.MapGet("/", async (string? state, string? search, int? page, int? pageSize, AgentCommands agents, CancellationToken ct) =>
            (await agents.ListAsync(state, search, page, pageSize, ct)).ToResult(list => Results.Ok(list))).WithName("ListAgents").RequireRole(Role.Viewer);
        group.MapGet("/{id:guid}", async (Guid id, AgentCommands agents, CancellationToken ct) =>
            await agents.GetAsync(id, ct) is { } agent ? Results.Ok(agent) : Problems.NotFound($"Agent {id}")).WithName("GetAgent").RequireRole(Role.Viewer);
        group.MapPost("/{id:guid}/revoke", async (Guid id, AgentCommands agents, CancellationToken ct) =>
            (await agents.RevokeAsync(id, ct)).ToResult(_ => Results.NoContent())).WithName("RevokeAgent").RequireRole(Role.Administrator);
        group.MapDelete("/{id:guid}", async (Guid id, AgentCommands agents, CancellationToken ct) =>
            (await agents.DeleteAsync(id, ct)).ToResult(_ => Results.NoContent())).WithName("DeleteAgent").RequireRole(Role.Administrator);
        return api;
    }
}
