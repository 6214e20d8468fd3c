using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rehome.Core.Agents;
using Rehome.Core.Runs;
using Rehome.Protocol;
using Rehome.Server.Api;
using Rehome.Server.Audit;
using Rehome.Server.Gateway;
using Rehome.Server.Store;

namespace Rehome.Server.Administration;

/// <summary>The enrolled agents, their state, revocation, removal and the approval of held enrollments: for the API and the console.</summary>
public sealed class AgentCommands(
    RehomeDbContext db, AgentRegistry registry, IOptions<GatewayOptions> options, AuditTrail audit, TimeProvider time, JobSignals signals)
{
    private readonly GatewayOptions gateway = options.Value;

    public const string AwaitingApproval = "awaiting-approval";

    /// <summary>The state of an agent that removed itself (its credential revoked with it).</summary>
    public const string Uninstalled = "uninstalled";

    /// <summary>
    /// Lists agents; <paramref name="state"/> is online, offline, revoked (refused enrollments among them) or
    /// awaiting-approval; <paramref name="search"/> matches device names.
    /// </summary>
    public async Task<Outcome<Page<AgentView>>> ListAsync(string? state, string? search, int? page, int? pageSize, CancellationToken ct)
    {
        if (state is not null and not ("online" or "offline" or "revoked" or AwaitingApproval or Uninstalled))
        {
            return Failure.Validation("state", "UnknownState", $"The state filter is online, offline, revoked, {AwaitingApproval} or {Uninstalled}.");
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
            // An uninstalled agent's credential is revoked too, but it has its own state.
            "revoked" => query.Where(a => a.RevokedAt != null && a.UninstalledAt == null),
            Uninstalled => query.Where(a => a.UninstalledAt != null),
            AwaitingApproval => query.Where(a => a.RevokedAt == null && a.Approval == AgentApproval.AwaitingApproval),
            "online" => query.Where(a => a.RevokedAt == null && a.Approval == AgentApproval.Active && a.LastSeenAt >= onlineSince - gateway.PresenceFlushInterval),
            "offline" => query.Where(a => a.RevokedAt == null && a.Approval == AgentApproval.Active && a.LastSeenAt < onlineSince - gateway.PresenceFlushInterval),
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

    /// <summary>
    /// Approves a held enrollment: the device's agent is revoked, the held one becomes the device's agent (its
    /// mapping and the jobs to come are its own) and gets its credential when it next asks with its key.
    /// </summary>
    public async Task<Outcome<bool>> ApproveAsync(Guid id, CancellationToken ct)
    {
        var (held, failure) = await HeldAsync(id, ct);
        if (held is null)
        {
            return failure!;
        }
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var replaced = await db.Agents.Where(a => a.ConnectionId == held.ConnectionId && a.DeviceKey == held.DeviceKey && a.Id != held.Id
            && a.RevokedAt == null && a.Approval == AgentApproval.Active).ToListAsync(ct);
        foreach (var old in replaced)
        {
            old.RevokedAt = now;
            old.RevokedBy = $"{audit.Actor}, approving agent {held.Id}";
        }
        held.Approval = AgentApproval.Active;
        var mapping = await AgentEnrollment.MappingOfAsync(db, held.DeviceKey, held.ConnectionId, ct);
        if (mapping is not null)
        {
            await db.Mappings.Where(m => m.Id == mapping).ExecuteUpdateAsync(s => s.SetProperty(m => m.AgentId, held.Id), ct);
        }
        audit.Record("agent.enrollment-approved", $"agent/{id}",
            $"{held.DeviceName} (hardware id {held.HardwareId}, from {held.EnrolledFrom ?? "unknown"}) replaces {string.Join(", ", replaced.Select(r => "agent/" + r.Id))}");
        await db.SaveChangesAsync(ct);
        await transaction.CommitRegardlessAsync();
        foreach (var old in replaced)
        {
            registry.Revoke(old.Id);
        }
        return true;
    }

    /// <summary>Refuses a held enrollment: the device's agent stays; the same key is refused for this device from now on.</summary>
    public async Task<Outcome<bool>> RefuseAsync(Guid id, CancellationToken ct)
    {
        var (held, failure) = await HeldAsync(id, ct);
        if (held is null)
        {
            return failure!;
        }
        held.Approval = AgentApproval.Refused;
        held.RevokedAt = time.GetUtcNow();
        held.RevokedBy = audit.Actor;
        audit.Record("agent.enrollment-refused", $"agent/{id}", $"{held.DeviceName} (hardware id {held.HardwareId}, from {held.EnrolledFrom ?? "unknown"})");
        await db.SaveChangesAsync(ct);
        return true;
    }

    private async Task<Outcome<DeviceAgent>> HeldAsync(Guid id, CancellationToken ct)
    {
        var held = await db.Agents.FirstOrDefaultAsync(a => a.Id == id, ct);
        if (held is null)
        {
            return Failure.NotFound($"Agent {id}");
        }
        return held.Approval == AgentApproval.AwaitingApproval && held.RevokedAt is null ? held
            : Failure.Conflict("NotAwaitingApproval", $"The agent of {held.DeviceName} is not an enrollment awaiting approval.");
    }

    /// <summary>
    /// Tells the agent to uninstall itself (<see cref="UninstallRules"/>): it hears it at its next poll once it has no job
    /// to run, removes its data, confirms and removes itself; asking again changes nothing.
    /// </summary>
    public async Task<Outcome<AgentView>> RequestUninstallAsync(Guid id, CancellationToken ct)
    {
        var agent = await db.Agents.FirstOrDefaultAsync(a => a.Id == id, ct);
        if (agent is null)
        {
            return Failure.NotFound($"Agent {id}");
        }
        if (UninstallRules.CheckRequest(agent) is { } refusal)
        {
            return Failure.Conflict(refusal.Rule, refusal.Message);
        }
        if (agent.UninstallRequestedAt is null)
        {
            MarkUninstall(agent);
            audit.Record("agent.uninstall-requested", $"agent/{id}", agent.DeviceName);
            await db.SaveChangesAsync(ct);
            await TellUninstallAsync([id], ct);
        }
        return (await GetAsync(id, ct))!;
    }

    /// <summary>
    /// The same for many agents at once, in the caller's unit of work: nothing is saved here (the caller saves with its one
    /// audit entry and commits, then calls <see cref="TellUninstallAsync"/>). Answers the agents told and the refusals by rule.
    /// </summary>
    public async Task<(List<Guid> Told, Dictionary<string, int> Refused)> MarkUninstallManyAsync(IReadOnlyCollection<Guid> ids, CancellationToken ct)
    {
        var refused = new Dictionary<string, int>();
        var told = new List<Guid>();
        foreach (var agent in await db.Agents.Where(a => ids.Contains(a.Id)).ToListAsync(ct))
        {
            if (UninstallRules.CheckRequest(agent) is { } refusal)
            {
                refused[refusal.Rule] = refused.GetValueOrDefault(refusal.Rule) + 1;
                continue;
            }
            if (agent.UninstallRequestedAt is null)
            {
                MarkUninstall(agent);
            }
            told.Add(agent.Id);
        }
        return (told, refused);
    }

    /// <summary>Marks the agents in the gateway's memory and wakes their idle polls (through their mappings' signals) to answer at once.</summary>
    public async Task TellUninstallAsync(IReadOnlyCollection<Guid> ids, CancellationToken ct)
    {
        foreach (var id in ids)
        {
            registry.RequestUninstall(id);
        }
        foreach (var chunk in ids.Chunk(500))
        {
            var mappings = await db.StoredMappings.AsNoTracking().Where(m => m.AgentId != null && chunk.Contains(m.AgentId.Value)).Select(m => m.Id).ToListAsync(ct);
            signals.SignalHere(mappings);
        }
    }

    private void MarkUninstall(DeviceAgent agent)
    {
        agent.UninstallRequestedAt = time.GetUtcNow();
        agent.UninstallRequestedBy = audit.Actor;
    }

    /// <summary>
    /// The agent's last call: it removed its data and is removing itself. Its credential is revoked with it; the row
    /// stays, shown as uninstalled with who asked and when.
    /// </summary>
    public async Task<Outcome<bool>> ConfirmUninstalledAsync(Guid id, UninstallReport? report, CancellationToken ct)
    {
        var agent = await db.Agents.FirstOrDefaultAsync(a => a.Id == id, ct);
        if (agent is null)
        {
            return Failure.NotFound($"Agent {id}");
        }
        if (UninstallRules.CheckConfirmation(agent) is { } refusal)
        {
            return Failure.Conflict(refusal.Rule, refusal.Message);
        }
        var now = time.GetUtcNow();
        agent.UninstalledAt ??= now;
        agent.RevokedAt ??= now;
        agent.RevokedBy ??= $"uninstalled (asked by {agent.UninstallRequestedBy})";
        // The parts are names from a closed list (the protocol's enum): nothing the device wrote reaches the audit raw.
        var removed = report?.Removed is { Count: > 0 } parts ? string.Join(", ", parts.Distinct()) : "nothing reported";
        audit.ActAs($"agent/{id}");
        audit.Record("agent.uninstalled", $"agent/{id}", $"{agent.DeviceName}: removed {removed}");
        await db.SaveChangesAsync(ct);
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
        await transaction.CommitRegardlessAsync();
        registry.Forget(id);
        return true;
    }

    private async Task<List<AgentView>> ViewsAsync(IReadOnlyList<DeviceAgent> agents, DateTimeOffset onlineSince, CancellationToken ct)
    {
        var ids = agents.Select(a => a.Id).ToList();
        // Running jobs are rows (StoredJobs).
        var running = await db.StoredJobs.AsNoTracking()
            .Where(j => j.Status == JobStatus.InProgress && j.LeaseOwner != null && ids.Contains(j.LeaseOwner.Value))
            .Select(j => new { Agent = j.LeaseOwner!.Value, View = new AgentJobView(j.Id, j.RunId, j.Kind, "", j.Step, j.ItemsDone, j.ItemsTotal) })
            .ToListAsync(ct);
        var mappings = await db.StoredMappings.AsNoTracking().Where(m => m.AgentId != null && ids.Contains(m.AgentId.Value))
            .Select(m => new { Agent = m.AgentId!.Value, m.Id }).ToListAsync(ct);
        // A held enrollment is shown against the device's agent it would replace: what differs is what an administrator judges.
        var heldDevices = agents.Where(a => a.Approval == AgentApproval.AwaitingApproval && a.RevokedAt == null).Select(a => a.DeviceKey).Distinct().ToList();
        var current = heldDevices.Count == 0 ? [] : await db.Agents.AsNoTracking()
            .Where(a => heldDevices.Contains(a.DeviceKey) && a.RevokedAt == null && a.Approval == AgentApproval.Active).ToListAsync(ct);
        return [.. agents.Select(a =>
        {
            var (state, seen) = StateOf(a.Id, a.LastSeenAt, a.RevokedAt, onlineSince, a.Approval, a.UninstalledAt);
            var job = running.FirstOrDefault(r => r.Agent == a.Id)?.View;
            var replaces = a.Approval == AgentApproval.AwaitingApproval && a.RevokedAt == null
                ? current.FirstOrDefault(c => c.DeviceKey == a.DeviceKey && c.ConnectionId == a.ConnectionId)
                : null;
            return new AgentView(a.Id, a.DeviceName, state, seen, a.EnrolledAt, a.AgentVersion, a.OsVersion, a.JoinType, a.DomainName, a.TenantId,
                a.LoggedOnUsers.Length == 0 ? [] : a.LoggedOnUsers.Split(','), mappings.FirstOrDefault(m => m.Agent == a.Id)?.Id,
                job is null ? null : job with { KindName = job.Kind.DisplayName() }, a.RevokedAt, a.RevokedBy)
            {
                Uninstall = a.UninstallRequestedAt is { } asked ? new AgentUninstallView(asked, a.UninstallRequestedBy ?? "", a.UninstalledAt) : null,
                Identity = IdentityOf(a),
                Replaces = replaces is null ? null : new AgentReplacedView(replaces.Id, replaces.EnrolledAt, IdentityOf(replaces)),
                LastUpdate = a.UpdateOutcome is null ? null : new AgentUpdateView(a.UpdateOutcome, a.UpdateMessage, a.UpdateReportedAt),
            };
        })];
    }

    /// <summary>
    /// The state (online, offline, revoked...) of an agent whose columns the caller read with its own rows: the
    /// mappings grid reads its window's agents in the same query as the mappings.
    /// </summary>
    public string StateOf(Guid id, DateTimeOffset lastSeenAt, DateTimeOffset? revokedAt, AgentApproval approval, DateTimeOffset? uninstalledAt) =>
        StateOf(id, lastSeenAt, revokedAt, time.GetUtcNow() - gateway.OnlineWindow, approval, uninstalledAt).State;

    /// <summary>The store's last-seen lags the registry's by up to the flush interval: the newer of the two counts.</summary>
    private (string State, DateTimeOffset Seen) StateOf(
        Guid id, DateTimeOffset storedLastSeen, DateTimeOffset? revokedAt, DateTimeOffset onlineSince, AgentApproval approval, DateTimeOffset? uninstalledAt = null)
    {
        var seen = registry.LastSeen(id) is { } memory && memory > storedLastSeen ? memory : storedLastSeen;
        return (approval == AgentApproval.Refused ? "refused"
            : uninstalledAt is not null ? Uninstalled
            : revokedAt is not null ? "revoked"
            : approval == AgentApproval.AwaitingApproval ? AwaitingApproval
            : seen >= onlineSince ? "online" : "offline", seen);
    }

    private static AgentIdentityView IdentityOf(DeviceAgent agent) => new(KeyFingerprint(agent.PublicKey), agent.HardwareId, agent.EnrolledFrom);

    /// <summary>The first 16 bytes of the key's SHA-256, in hex pairs: enough to tell two keys apart at a glance.</summary>
    internal static string? KeyFingerprint(string? publicKey) => publicKey is null ? null
        : string.Join(':', Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Convert.FromBase64String(publicKey)))
            .Chunk(2).Take(16).Select(pair => new string(pair)));
}
