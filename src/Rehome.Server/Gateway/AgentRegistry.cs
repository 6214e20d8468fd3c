using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Rehome.Core.Agents;
using Rehome.Server.Store;

namespace Rehome.Server.Gateway;

/// <summary>
/// The gateway's memory of enrolled agents: credential hashes (so an idle poll authenticates without a query),
/// revocations (applied at once), the mapping each agent works for, and last-seen times, written to the store
/// in batches instead of on every poll.
/// </summary>
public sealed class AgentRegistry(
    IServiceScopeFactory scopes, GatewayStoreLane lane, TimeProvider time, SqlDialect dialect, JobSignals signals, IEnumerable<IJobSignalRelay> relays)
{
    /// <summary>Carries revocations to the other replicas (PostgreSQL); none on SQLite, where there is one server.</summary>
    private readonly IJobSignalRelay? relay = relays.FirstOrDefault();

    private readonly ConcurrentDictionary<Guid, AgentEntry> entries = new();
    private PresenceWriter presence = new(dialect);
    private readonly SemaphoreSlim flushing = new(1, 1);
    private DateTimeOffset lastFlush = DateTimeOffset.MinValue;

    /// <summary>
    /// The agent, from memory or the store; null when unknown. A store look takes a turn in the gateway's lane: after a
    /// restart every agent's first request comes here at once; one that keeps a job is not turned away.
    /// </summary>
    public async ValueTask<AgentEntry?> FindAsync(Guid agentId, CancellationToken ct, bool keepsJob = false)
    {
        if (entries.TryGetValue(agentId, out var entry))
        {
            return entry;
        }
        using var permit = await lane.EnterAsync(ct, keepsJob);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var agent = await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.Id == agentId, ct);
        if (agent is null)
        {
            return null;
        }
        entry = new AgentEntry(agent.Id, agent.ConnectionId, agent.DeviceKey, agent.CredentialHash)
        {
            Revoked = agent.RevokedAt is not null,
            UninstallRequested = agent.UninstallRequestedAt is not null,
        };
        entry.SetLastSeen(agent.LastSeenAt, dirty: false);
        return entries.GetOrAdd(agentId, entry);
    }

    /// <summary>The agent if the server remembers it; null otherwise (no store look: the caller takes the long way).</summary>
    public AgentEntry? Remembered(Guid agentId) => entries.TryGetValue(agentId, out var entry) ? entry : null;

    /// <summary>Remembers a newly enrolled agent (replacing what was remembered of its id) and returns its entry.</summary>
    public AgentEntry Add(DeviceAgent agent)
    {
        var entry = new AgentEntry(agent.Id, agent.ConnectionId, agent.DeviceKey, agent.CredentialHash);
        entry.SetLastSeen(agent.LastSeenAt, dirty: false);
        entries[agent.Id] = entry;
        return entry;
    }

    /// <summary>Refuses the agent from now on, here and on every other replica (the store is updated by the caller).</summary>
    public void Revoke(Guid agentId)
    {
        if (entries.TryGetValue(agentId, out var entry))
        {
            entry.Revoked = true;
            Wake(entry);
        }
        relay?.PublishAgentChanged(agentId);
    }

    /// <summary>
    /// The agent was told to uninstall itself (the store is updated by the caller): its next poll here answers so, and
    /// every other replica reads the agent again from the store.
    /// </summary>
    public void RequestUninstall(Guid agentId)
    {
        if (entries.TryGetValue(agentId, out var entry))
        {
            entry.UninstallRequested = true;
            Wake(entry);
        }
        relay?.PublishAgentChanged(agentId);
    }

    /// <summary>
    /// The agents' mappings were removed (the store is updated by the caller): their polls here look for a mapping again
    /// at once (a device imported for the next wave gets its jobs without a restart), and every other replica reads the
    /// agents again from the store.
    /// </summary>
    public void MappingsRemoved(IEnumerable<Guid> agentIds)
    {
        foreach (var agentId in agentIds)
        {
            if (entries.TryGetValue(agentId, out var entry))
            {
                var held = entry.MappingId;
                entry.MappingId = null;
                entry.MappingCheckedAt = 0;
                if (held is { } mappingId)
                {
                    signals.SignalHere([mappingId]);
                }
            }
            relay?.PublishAgentChanged(agentId);
        }
    }

    /// <summary>
    /// A poll held by the agent looks again now (its mapping's signal) rather than at the end of its wait: a revoked
    /// agent hears 401, an agent told to uninstall hears so, as soon as it is known here.
    /// </summary>
    private void Wake(AgentEntry entry)
    {
        if (entry.MappingId is { } mappingId)
        {
            signals.SignalHere([mappingId]);
        }
    }

    public void Forget(Guid agentId)
    {
        if (entries.TryRemove(agentId, out var forgotten))
        {
            // A poll holding it looks again and finds the agent gone.
            forgotten.Stale = true;
            Wake(forgotten);
        }
        relay?.PublishAgentChanged(agentId);
    }

    /// <summary>Drops what this replica remembers of every agent (after a gap in what other replicas told it).</summary>
    public void ForgetAllHere()
    {
        foreach (var entry in entries.Values)
        {
            // A poll holding an entry reads the agent again at its next look (a revocation may have been missed).
            entry.Stale = true;
        }
        entries.Clear();
    }

    /// <summary>Another replica changed the agent: drop what this one remembers; its next request reads the store.</summary>
    public void ForgetHere(Guid agentId)
    {
        if (entries.TryRemove(agentId, out var entry))
        {
            // A poll holding the old entry reads the agent again at its next look (revoked, deleted or told to uninstall).
            entry.Stale = true;
            Wake(entry);
        }
    }

    /// <summary>The last-seen time this server knows (it may be newer than the store's).</summary>
    public DateTimeOffset? LastSeen(Guid agentId) => entries.TryGetValue(agentId, out var entry) ? entry.LastSeen : null;

    /// <summary>Agents written by one statement of the presence flush; tests set it small to cross its edges with few agents.</summary>
    internal int PresenceBatch
    {
        get => presence.Batch;
        set => presence = new PresenceWriter(dialect, value);
    }

    /// <summary>
    /// Writes the last-seen times that changed since the previous flush, if the interval has passed: the agents are
    /// walked in place and written <see cref="PresenceWriter.DefaultBatch"/> a statement through buffers made once, so a flush
    /// allocates nothing for each agent. One flush at a time (the engine's tick, and the last one when the server stops).
    /// </summary>
    public async Task FlushPresenceAsync(RehomeDbContext db, TimeSpan interval, CancellationToken ct)
    {
        await flushing.WaitAsync(ct);
        var writer = presence;
        var batch = writer.Agents;
        var (count, used) = (0, 0);
        try
        {
            var now = time.GetUtcNow();
            if (now - lastFlush < interval)
            {
                return;
            }
            lastFlush = now;
            foreach (var (_, entry) in entries)
            {
                if (!entry.TakeDirty())
                {
                    continue;
                }
                batch[count++] = entry;
                used = Math.Max(used, count);
                if (count == batch.Length)
                {
                    await writer.WriteAsync(db, count, ct);
                    count = 0;
                }
            }
            if (count > 0)
            {
                await writer.WriteAsync(db, count, ct);
                count = 0;
            }
        }
        catch
        {
            // The store was away: the batch that was not written stays to write (the agents not reached yet are still
            // marked), or agents that kept polling through the outage would look silent since before it (and be failed
            // as offline).
            for (var i = 0; i < count; i++)
            {
                batch[i].MarkDirty();
            }
            lastFlush = DateTimeOffset.MinValue;
            throw;
        }
        finally
        {
            Array.Clear(batch, 0, used);
            flushing.Release();
        }
    }
}

/// <summary>What the gateway keeps in memory about one agent.</summary>
public sealed class AgentEntry(Guid agentId, Guid connectionId, string deviceKey, string credentialHash)
{
    private long lastSeenTicks;
    private int dirty;

    public Guid AgentId { get; } = agentId;

    public Guid ConnectionId { get; } = connectionId;

    public string DeviceKey { get; } = deviceKey;

    public string CredentialHash { get; } = credentialHash;

    /// <summary>The credential's SHA-256 as bytes, compared on every request.</summary>
    public byte[] CredentialHashBytes { get; } = AgentCredentials.HashBytes(credentialHash);

    /// <summary>
    /// The agent's successful authentication, made once: its identity (<see cref="AgentIdentity"/>) and ticket are the
    /// same on every request, so a poll builds no claims. Nothing downstream changes a ticket's properties.
    /// </summary>
    public Task<AuthenticateResult> Authenticated => authenticated ??= Task.FromResult(AuthenticateResult.Success(
        new AuthenticationTicket(new ClaimsPrincipal(new AgentIdentity(this)), AgentAuthenticationHandler.SchemeName)));

    private Task<AuthenticateResult>? authenticated;

    /// <summary>The agent's long-poll wait, reused by each of its polls (<see cref="JobSignals.WaitAsync"/>).</summary>
    public PollWaiter Waiter { get; } = new();

    /// <summary>The agent's held poll, reused by each of its idle polls (<see cref="Gateway.HeldPoll.Hold"/>).</summary>
    internal HeldPoll HeldPoll { get; } = new();

    private volatile bool revoked;

    public bool Revoked { get => revoked; set => revoked = value; }

    private volatile bool uninstallRequested;
    private volatile bool stale;

    /// <summary>An administrator told the agent to uninstall itself: a poll with no job to hand out answers so.</summary>
    public bool UninstallRequested { get => uninstallRequested; set => uninstallRequested = value; }

    /// <summary>Another replica changed the agent: a poll holding this entry reads the agent again from the store.</summary>
    public bool Stale { get => stale; set => stale = value; }

    private volatile bool previousPollUnanswered;

    /// <summary>
    /// What the agent's latest poll says of its previous one (<see cref="Rehome.Protocol.AgentProtocol.PreviousPollUnansweredParameter"/>):
    /// set as each poll begins, read when a poll leases. An agent polls once at a time, but a poll it gave up on may still
    /// be held here when its next begins, and an entry read again starts without it: at worst a resend's extension is
    /// given or missed, which the lease's bound and lapse cover either way.
    /// </summary>
    public bool PreviousPollUnanswered { get => previousPollUnanswered; set => previousPollUnanswered = value; }

    /// <summary>The mapping the agent works for (its device name's mapping in a project of its connection).</summary>
    public Guid? MappingId { get; set; }

    /// <summary>When the mapping was last looked up, and the signal generation the last store look saw.</summary>
    /// <remarks>Stopwatch timestamps: the long poll runs on the wall clock, whatever the business clock says.</remarks>
    public long MappingCheckedAt { get; set; }

    public long CheckedGeneration { get; set; } = -1;

    public DateTimeOffset LastSeen => new(Interlocked.Read(ref lastSeenTicks), TimeSpan.Zero);

    public void SetLastSeen(DateTimeOffset at, bool dirty = true)
    {
        Interlocked.Exchange(ref lastSeenTicks, at.UtcTicks);
        if (dirty)
        {
            Volatile.Write(ref this.dirty, 1);
        }
    }

    internal bool TakeDirty() => Interlocked.Exchange(ref dirty, 0) == 1;

    internal void MarkDirty() => Volatile.Write(ref dirty, 1);
}
