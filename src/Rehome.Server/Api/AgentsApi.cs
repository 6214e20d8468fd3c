using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rehome.Core.Agents;
using Rehome.Core.Runs;
using Rehome.Server.Audit;
using Rehome.Server.Gateway;
using Rehome.Server.Store;

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
        group.MapGet("/", ListAsync).WithName("ListAgents");
        group.MapGet("/{id:guid}", GetAsync).WithName("GetAgent");
        group.MapPost("/{id:guid}/revoke", RevokeAsync).WithName("RevokeAgent");
        group.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteAgent");
        return api;
    }

    /// <summary>Lists agents; <paramref name="state"/> is online, offline or revoked; <paramref name="search"/> matches device names.</summary>
    private static async Task<IResult> ListAsync(
        string? state, string? search, int? page, int? pageSize, RehomeDbContext db, AgentRegistry registry, IOptions<GatewayOptions> options,
        TimeProvider time, CancellationToken ct)
    {
        if (state is not null and not ("online" or "offline" or "revoked"))
        {
            return Problems.Validation("state", "UnknownState", "The state filter is online, offline or revoked.");
        }
        var (number, size) = Paging.Clamp(page, pageSize);
        var query = db.Agents.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(search))
        {
            var key = search.Trim().ToUpperInvariant();
            query = query.Where(a => a.DeviceKey.Contains(key));
        }
        var onlineSince = time.GetUtcNow() - options.Value.OnlineWindow;
        // The store's last-seen lags by up to the flush interval: the window allows for it.
        query = state switch
        {
            "revoked" => query.Where(a => a.RevokedAt != null),
            "online" => query.Where(a => a.RevokedAt == null && a.LastSeenAt >= onlineSince - options.Value.PresenceFlushInterval),
            "offline" => query.Where(a => a.RevokedAt == null && a.LastSeenAt < onlineSince - options.Value.PresenceFlushInterval),
            _ => query,
        };
        var total = await query.CountAsync(ct);
        var agents = await query.OrderBy(a => a.DeviceKey).ThenBy(a => a.Id).Skip((number - 1) * size).Take(size).ToListAsync(ct);
        var views = await ViewsAsync(db, registry, agents, onlineSince, ct);
        return Results.Ok(new Page<AgentView>(views, total, number, size));
    }

    private static async Task<IResult> GetAsync(
        Guid id, RehomeDbContext db, AgentRegistry registry, IOptions<GatewayOptions> options, TimeProvider time, CancellationToken ct)
    {
        var agent = await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id, ct);
        return agent is null
            ? Problems.NotFound($"Agent {id}")
            : Results.Ok((await ViewsAsync(db, registry, [agent], time.GetUtcNow() - options.Value.OnlineWindow, ct))[0]);
    }

    private static async Task<IResult> RevokeAsync(Guid id, RehomeDbContext db, AgentRegistry registry, AuditTrail audit, TimeProvider time, CancellationToken ct)
    {
        var agent = await db.Agents.FirstOrDefaultAsync(a => a.Id == id, ct);
        if (agent is null)
        {
            return Problems.NotFound($"Agent {id}");
        }
        if (agent.RevokedAt is null)
        {
            agent.RevokedAt = time.GetUtcNow();
            agent.RevokedBy = audit.Actor;
            audit.Record("agent.revoke", $"agent/{id}", agent.DeviceName);
            await db.SaveChangesAsync(ct);
        }
        registry.Revoke(id);
        return Results.NoContent();
    }

    /// <summary>Removes the agent (revoking it first); its device must enroll again to get jobs.</summary>
    private static async Task<IResult> DeleteAsync(Guid id, RehomeDbContext db, AgentRegistry registry, AuditTrail audit, CancellationToken ct)
    {
        var agent = await db.Agents.FirstOrDefaultAsync(a => a.Id == id, ct);
        if (agent is null)
        {
            return Problems.NotFound($"Agent {id}");
        }
        registry.Revoke(id);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.Mappings.Where(m => m.AgentId == id).ExecuteUpdateAsync(s => s.SetProperty(m => m.AgentId, (Guid?)null), ct);
        db.Agents.Remove(agent);
        audit.Record("agent.delete", $"agent/{id}", agent.DeviceName);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        registry.Forget(id);
        return Results.NoContent();
    }

    private static async Task<List<AgentView>> ViewsAsync(
        RehomeDbContext db, AgentRegistry registry, IReadOnlyList<DeviceAgent> agents, DateTimeOffset onlineSince, CancellationToken ct)
    {
        var ids = agents.Select(a => a.Id).ToList();
        var running = await db.Jobs.AsNoTracking()
            .Where(j => j.Status == JobStatus.InProgress && j.LeaseOwner != null && ids.Contains(j.LeaseOwner.Value))
            .Select(j => new { Agent = j.LeaseOwner!.Value, View = new AgentJobView(j.Id, j.RunId, j.Kind, "", j.Step, j.ItemsDone, j.ItemsTotal) })
            .ToListAsync(ct);
        var mappings = await db.Mappings.AsNoTracking().Where(m => m.AgentId != null && ids.Contains(m.AgentId.Value))
            .Select(m => new { Agent = m.AgentId!.Value, m.Id }).ToListAsync(ct);
        return [.. agents.Select(a =>
        {
            var seen = registry.LastSeen(a.Id) is { } memory && memory > a.LastSeenAt ? memory : a.LastSeenAt;
            var state = a.RevokedAt is not null ? "revoked" : seen >= onlineSince ? "online" : "offline";
            var job = running.FirstOrDefault(r => r.Agent == a.Id)?.View;
            return new AgentView(a.Id, a.DeviceName, state, seen, a.EnrolledAt, a.AgentVersion, a.OsVersion, a.JoinType, a.DomainName, a.TenantId,
                a.LoggedOnUsers.Length == 0 ? [] : a.LoggedOnUsers.Split(','), mappings.FirstOrDefault(m => m.Agent == a.Id)?.Id,
                job is null ? null : job with { KindName = job.Kind.DisplayName() }, a.RevokedAt, a.RevokedBy);
        })];
    }
}
