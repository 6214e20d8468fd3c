using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Rehome.Core.Agents;
using Rehome.Core.Runs;
using Rehome.Server.Gateway;
using Rehome.Server.Store;

namespace Rehome.Server.Observability;

/// <summary>
/// The gauges read from the store, so that every replica reports the whole fleet: jobs by status and agents
/// online. One snapshot serves all gauges of a scrape and is reused for <see cref="MetricsOptions.StoreReadInterval"/>:
/// two queries per interval whatever the number of scrapers (at 250,000 jobs the jobs count is one scan of the
/// jobs table, see docs/observability.md). Read on the scrape's thread: nothing is read while nobody scrapes.
/// </summary>
public sealed class StoreGauges(
    IServiceScopeFactory scopes, TimeProvider time, IOptions<MetricsOptions> options, IOptions<GatewayOptions> gateway, ILogger<StoreGauges> logger)
{
    private readonly Lock gate = new();
    private Snapshot? last;
    private DateTimeOffset? failedAt;

    public IEnumerable<Measurement<long>> JobsByStatus() =>
        Current() is { } snapshot
            ? Enum.GetValues<JobStatus>().Select(s => new Measurement<long>(snapshot.Jobs.GetValueOrDefault(s), new KeyValuePair<string, object?>("rehome.job.status", s.ToString())))
            : [];

    public IEnumerable<Measurement<long>> AgentsOnline() => Current() is { } snapshot ? [new Measurement<long>(snapshot.AgentsOnline)] : [];

    /// <summary>The snapshot, read again once it is older than the interval; null while the store cannot be read (the gauges go absent, not stale).</summary>
    private Snapshot? Current()
    {
        lock (gate)
        {
            var now = time.GetUtcNow();
            if (last is { } fresh && now - fresh.ReadAt < options.Value.StoreReadInterval)
            {
                return fresh;
            }
            if (failedAt is { } failed && now - failed < options.Value.StoreReadInterval)
            {
                // The store was away a moment ago: scrapes do not each wait out its connection timeout under the lock.
                return null;
            }
            try
            {
                last = Read(now);
                failedAt = null;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                logger.LogWarning(e, "Reading the store's gauges (jobs by status, agents online) failed; they are left out of this scrape");
                last = null;
                failedAt = now;
            }
            return last;
        }
    }

    private Snapshot Read(DateTimeOffset now)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        // The meter's callbacks are synchronous: so are these two queries.
        var jobs = db.Jobs.GroupBy(j => j.Status).Select(g => new { Status = g.Key, Count = g.LongCount() }).ToDictionary(g => g.Status, g => g.Count);
        // As the agents list counts "online": last seen within the window, allowing for a replica's unflushed presence.
        var since = now - gateway.Value.OnlineWindow - gateway.Value.PresenceFlushInterval;
        var online = db.Agents.LongCount(a => a.RevokedAt == null && a.Approval == AgentApproval.Active && a.LastSeenAt >= since);
        return new Snapshot(now, jobs, online);
    }

    private sealed record Snapshot(DateTimeOffset ReadAt, Dictionary<JobStatus, long> Jobs, long AgentsOnline);
}
