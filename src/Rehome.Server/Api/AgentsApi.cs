using Rehome.Core.Runs;
using Rehome.Server.Administration;
using Rehome.Server.Auth;

namespace Rehome.Server.Api;

/// <summary>
/// An agent as the administrator sees it. <see cref="State"/> is online, offline, revoked, awaiting-approval (a
/// held enrollment: <see cref="Replaces"/> is the device's agent it would replace), refused or uninstalled.
/// </summary>
public sealed record AgentView(
    Guid Id, string DeviceName, string State, DateTimeOffset LastSeenAt, DateTimeOffset EnrolledAt, string AgentVersion, string OsVersion,
    string JoinType, string? DomainName, string? TenantId, IReadOnlyList<string> LoggedOnUsers, Guid? MappingId, AgentJobView? CurrentJob,
    DateTimeOffset? RevokedAt, string? RevokedBy)
{
    public AgentIdentityView? Identity { get; init; }

    public AgentReplacedView? Replaces { get; init; }

    /// <summary>Set once an administrator told the agent to uninstall itself.</summary>
    public AgentUninstallView? Uninstall { get; init; }

    /// <summary>The last update the agent reported (Updated, RolledBack or Refused), its versions and why; null when it never updated.</summary>
    public AgentUpdateView? LastUpdate { get; init; }
}

public sealed record AgentUpdateView(string Outcome, string? Message, DateTimeOffset? ReportedAt);

/// <summary>What a device proved at enrollment: its key (a fingerprint; none for agents enrolled before keys), its hardware id, the address it came from.</summary>
public sealed record AgentIdentityView(string? KeyFingerprint, string? HardwareId, string? EnrolledFrom);

/// <summary>The device's agent a held enrollment would replace.</summary>
public sealed record AgentReplacedView(Guid Id, DateTimeOffset EnrolledAt, AgentIdentityView Identity);

public sealed record AgentJobView(Guid Id, Guid RunId, JobKind Kind, string KindName, string? Step, int ItemsDone, int ItemsTotal);

/// <summary>/api/v1/agents: the enrolled agents, their state, revocation, and approval of held enrollments.</summary>
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
        group.MapPost("/{id:guid}/approve", async (Guid id, AgentCommands agents, CancellationToken ct) =>
            (await agents.ApproveAsync(id, ct)).ToResult(_ => Results.NoContent())).WithName("ApproveAgentEnrollment").RequireRole(Role.Administrator);
        group.MapPost("/{id:guid}/refuse", async (Guid id, AgentCommands agents, CancellationToken ct) =>
            (await agents.RefuseAsync(id, ct)).ToResult(_ => Results.NoContent())).WithName("RefuseAgentEnrollment").RequireRole(Role.Administrator);
        group.MapPost("/{id:guid}/uninstall", async (Guid id, AgentCommands agents, CancellationToken ct) =>
            (await agents.RequestUninstallAsync(id, ct)).ToResult(Results.Ok)).WithName("UninstallAgent").RequireRole(Role.Administrator)
            .WithSummary("Tells the agent to uninstall itself: at its next poll, once no job is left for it, it removes its data, confirms and removes itself.");
        group.MapDelete("/{id:guid}", async (Guid id, AgentCommands agents, CancellationToken ct) =>
            (await agents.DeleteAsync(id, ct)).ToResult(_ => Results.NoContent())).WithName("DeleteAgent").RequireRole(Role.Administrator);
        return api;
    }
}

/// <summary>An administrator told the agent to uninstall itself (when, who) and, once it confirmed, when it did.</summary>
public sealed record AgentUninstallView(DateTimeOffset RequestedAt, string RequestedBy, DateTimeOffset? UninstalledAt);
