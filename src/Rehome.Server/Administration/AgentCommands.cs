using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rehome.Core.Agents;
using Rehome.Core.Runs;
using Rehome.Server.Api;
using Rehome.Server.Audit;
using Rehome.Server.Gateway;
using Rehome.Server.Store;

namespace Rehome.Server.Administration;

/// <summary>The enrolled agents, their state, revocation and removal: for the API and the console.</summary>
public sealed class AgentCommands(RehomeDbContext db, AgentRegistry registry, IOptions<GatewayOptions> options, AuditTrail audit, TimeProvider time)
{
    private readonly GatewayOptions gateway = options.Value;

    /// <summary>Lists agents; <paramref name="state"/> is online, offline or revoked; <paramref name="search"/> matches device names.</summary>
    public async Task<Outcome<Page<AgentView>>> ListAsync(string? state, string? search, int? page, int? pageSize, CancellationToken ct)
    {
        if (state is not null and not ("online" or "offline" or "revoked"))
        {
            return Failure.Validation("state", "UnknownState", "The state filter is online, offline or revoked.");
        }
        var (number, size) = Paging.Clamp(page, pageSize);
        var query = db.Agents.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(search))
        {
            var key = search.Trim().ToUpperInvariant();
            query = query.Where(a => a.DeviceKey.Contains(key));
        }
        var onlineSince = time.GetUtcNow() - gateway.OnlineWindow;
        // The store's last-seen lags by up to the flush interval: the window allows for it.
        query = state switch
        {
            "revoked" => query.Where(a => a.RevokedAt != null),
            "online" => query.Where(a => a.RevokedAt == null && a.LastSeenAt >= onlineSince - gateway.PresenceFlushInterval),
            "offline" => query.Where(a => a.RevokedAt == null && a.LastSeenAt < onlineSince - gateway.PresenceFlushInterval),
            _ => query,
        };
        var total = await query.CountAsync(ct);
        var agents = await query.OrderBy(a => a.DeviceKey).ThenBy(a => a.Id).Skip((number - 1) * size).Take(size).ToListAsync(ct);
        var views = await ViewsAsync(agents, onlineSince, ct);
        return new Page<AgentView>(views, total, number, size);
    }

    public async Task<AgentView?> GetAsync(Guid id, CancellationToken ct)
    {
        var agent = await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id, ct);
        return agent is null ? null : (await ViewsAsync([agent], time.GetUtcNow() - gateway.OnlineWindow, ct))[0];
    }

    public async Task<Outcome<bool>> RevokeAsync(Guid id, CancellationToken ct)
    {
        var agent = await db.Agents.FirstOrDefaultAsync(a => a.Id == id, ct);
        if (agent is null)
        {
            return Failure.NotFound($"Agent {id}");
        }
        if (agent.RevokedAt is null)
        {
            agent.RevokedAt = time.GetUtcNow();
            agent.RevokedBy = audit.Actor;
            audit.Record("agent.revoke", $"agent/{id}", agent.DeviceName);
            await db.SaveChangesAsync(ct);
        }
        registry.Revoke(id);
        return true;
    }

    /// <summary>Removes the agent (revoking it first); its device must enroll again to get jobs.</summary>
    public async Task<Outcome<bool>> DeleteAsync(Guid id, CancellationToken ct)
    {
        var agent = await db.Agents.FirstOrDefaultAsync(a => a.Id == id, ct);
        if (agent is null)
        {
            return Failure.NotFound($"Agent {id}");
        }
        registry.Revoke(id);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.Mappings.Where(m => m.AgentId == id).ExecuteUpdateAsync(s => s.SetProperty(m => m.AgentId, (Guid?)null), ct);
        db.Agents.Remove(agent);
        audit.Record("agent.delete", $"agent/{id}", agent.DeviceName);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        registry.Forget(id);
        return true;
    }

    private async Task<List<AgentView>> ViewsAsync(IReadOnlyList<DeviceAgent> agents, DateTimeOffset onlineSince, CancellationToken ct)
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
            var (state, seen) = StateOf(a.Id, a.LastSeenAt, a.RevokedAt, onlineSince);
            var job = running.FirstOrDefault(r => r.Agent == a.Id)?.View;
            return new AgentView(a.Id, a.DeviceName, state, seen, a.EnrolledAt, a.AgentVersion, a.OsVersion, a.JoinType, a.DomainName, a.TenantId,
                a.LoggedOnUsers.Length == 0 ? [] : a.LoggedOnUsers.Split(','), mappings.FirstOrDefault(m => m.Agent == a.Id)?.Id,
                job is null ? null : job with { KindName = job.Kind.DisplayName() }, a.RevokedAt, a.RevokedBy);
        })];
    }

    /// <summary>The state (online, offline, revoked) of the given agents, for the mappings grid's visible rows.</summary>
    public async Task<Dictionary<Guid, string>> StatesAsync(IReadOnlyCollection<Guid> ids, CancellationToken ct)
    {
        var onlineSince = time.GetUtcNow() - gateway.OnlineWindow;
        var rows = await db.Agents.AsNoTracking().Where(a => ids.Contains(a.Id)).Select(a => new { a.Id, a.LastSeenAt, a.RevokedAt }).ToListAsync(ct);
        return rows.ToDictionary(a => a.Id, a => StateOf(a.Id, a.LastSeenAt, a.RevokedAt, onlineSince).State);
    }

    /// <summary>The store's last-seen lags the registry's by up to the flush interval: the newer of the two counts.</summary>
    private (string State, DateTimeOffset Seen) StateOf(Guid id, DateTimeOffset storedLastSeen, DateTimeOffset? revokedAt, DateTimeOffset onlineSince)
    {
        var seen = registry.LastSeen(id) is { } memory && memory > storedLastSeen ? memory : storedLastSeen;
        return (revokedAt is not null ? "revoked" : seen >= onlineSince ? "online" : "offline", seen);
    }
}
