using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rehome.Core.Runs;
using Rehome.Protocol;
using Rehome.Server.Store;

namespace Rehome.Server.Gateway;

/// <summary>A poll's answer: a job to start, nothing yet, the agent's credential revoked meanwhile, or "uninstall yourself".</summary>
public sealed record PollAnswer(JobAssignment? Assignment, bool Revoked = false, bool Uninstall = false)
{
    public static PollAnswer Nothing { get; } = new(Assignment: null);

    public static PollAnswer RevokedAgent { get; } = new(null, Revoked: true);

    public static PollAnswer UninstallAgent { get; } = new(null, Uninstall: true);
}

/// <summary>
/// The long poll: answers at once with a job if one is startable, otherwise waits for its mapping's signal (no
/// query while idle) up to the wait the agent asked for. A job no signal announced is found by the server's one
/// <see cref="PollRecheck"/>, which signals its mapping; an agent without a mapping looks for one every
/// <see cref="GatewayOptions.RecheckInterval"/> (a mapping imported after enrollment).
/// One for the server: an idle poll builds no services, no store context and no timer (it waits in its agent's
/// <see cref="PollWaiter"/>); a store context is made only when the poll looks in the store.
/// </summary>
public sealed class AgentPolls(
    IServiceScopeFactory scopes, JobSignals signals, LeaseBatcher leases, GatewayStoreLane lane, IOptions<GatewayOptions> options, AgentRegistry registry)
{
    /// <summary>The wait when the agent names none.</summary>
    public const int DefaultWaitSeconds = 25;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<PollAnswer> PollAsync(AgentEntry entry, int? waitSeconds, CancellationToken ct)
    {
        var waitFor = TimeSpan.FromSeconds(Math.Clamp(waitSeconds ?? DefaultWaitSeconds, 0, AgentProtocol.MaxPollSeconds));
        var started = Stopwatch.GetTimestamp();
        var recheck = options.Value.RecheckInterval;
        while (true)
        {
            if (entry.Stale)
            {
                // Another replica changed the agent: what the store says now counts (its mapping is looked up again). An
                // entry read again may go stale in turn: it is looked at afresh, never taken for a revocation.
                if (await registry.FindAsync(entry.AgentId, ct) is not { } fresh)
                {
                    return PollAnswer.RevokedAgent;
                }
                entry = fresh;
                continue;
            }
            if (entry.Revoked)
            {
                return PollAnswer.RevokedAgent;
            }
            if (entry.MappingId is null && Stopwatch.GetElapsedTime(entry.MappingCheckedAt) >= recheck)
            {
                await LinkMappingAsync(entry, ct);
            }
            var mapping = entry.MappingId;
            var generation = mapping is { } m ? signals.Generation(m) : 0;
            if (entry.Stale || entry.Revoked)
            {
                // Changed between the look above and the generation read: a change sets its flag before it signals, so
                // looked at again now rather than leased or waited on with a generation that already holds its signal.
                continue;
            }
            // An agent told to uninstall first gets every job left for it (one it had begun comes back to finish): it
            // hears "uninstall" only when there is none.
            if (mapping is { } mappingId
                && (entry.CheckedGeneration != generation || entry.UninstallRequested))
            {
                entry.CheckedGeneration = generation;
                var assignment = await leases.LeaseAsync(mappingId, entry.AgentId, ct);
                if (assignment is not null)
                {
                    // The mapping may hold more startable jobs: the next poll looks again.
                    entry.CheckedGeneration = -1;
                    return new PollAnswer(assignment);
                }
            }
            // Not while a job of its mapping is yet to come (scheduled, waiting for the destination or a prerequisite):
            // the agent would be gone when it can start.
            if (entry.UninstallRequested && !await HasActiveJobsAsync(mapping, ct))
            {
                return PollAnswer.UninstallAgent;
            }
            var remaining = waitFor - Stopwatch.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                return PollAnswer.Nothing;
            }
            // Without a mapping, the poll wakes to look for one every recheck; with one, only its signal or its time ends the wait.
            var nap = mapping is null && remaining > recheck ? recheck : remaining;
            // Woken by the mapping's signal, or at the end of the nap by the server's one sweep (without a mapping, only that).
            await signals.WaitAsync(mapping, generation, nap, entry.Waiter, ct);
            ct.ThrowIfCancellationRequested();
        }
    }

    private async Task<bool> HasActiveJobsAsync(Guid? mappingId, CancellationToken ct)
    {
        if (mappingId is not { } id)
        {
            return false;
        }
        using var permit = await lane.EnterAsync(ct);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        return await db.Jobs.AnyAsync(j => j.MappingId == id && JobStatuses.Active.Contains(j.Status), ct);
    }

    /// <summary>The device's mapping may have been imported after the agent enrolled: link them once it exists.</summary>
    private async Task LinkMappingAsync(AgentEntry entry, CancellationToken ct)
    {
        using var permit = await lane.EnterAsync(ct);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        entry.MappingId = await AgentEnrollment.MappingOfAsync(db, entry.DeviceKey, entry.ConnectionId, ct);
        entry.MappingCheckedAt = Stopwatch.GetTimestamp();
        if (entry.MappingId is { } found)
        {
            // A new mapping's jobs are looked for at once, whatever generation the previous one had reached.
            entry.CheckedGeneration = -1;
            await db.Mappings.Where(m => m.Id == found).ExecuteUpdateAsync(s => s.SetProperty(m => m.AgentId, entry.AgentId), ct);
        }
    }
}
