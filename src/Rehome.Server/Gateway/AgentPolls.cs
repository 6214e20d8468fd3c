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

    /// <summary>How long a poll that asked for <paramref name="waitSeconds"/> may be held (the default when it named none).</summary>
    public static TimeSpan WaitFor(int? waitSeconds) =>
        TimeSpan.FromSeconds(Math.Clamp(waitSeconds ?? DefaultWaitSeconds, 0, AgentProtocol.MaxPollSeconds));

    /// <summary>
    /// The poll as far as it goes without the store (issue 16): an idle poll's every look, so that its endpoint holds
    /// it with one state machine of its own and calls <see cref="PollAsync"/> only when the store has something to
    /// say. <see cref="PollStep.Answered"/>: <paramref name="look"/>'s answer, at once. <see cref="PollStep.Waiting"/>:
    /// await its wait (in the agent's <see cref="PollWaiter"/>), then look again. Anything else: the store is needed
    /// (<see cref="PollAsync"/> goes on from here).
    /// </summary>
    internal PollStep Look(AgentEntry entry, TimeSpan waitFor, long started, CancellationToken ct, out PollLook look)
    {
        var recheck = options.Value.RecheckInterval;
        while (true)
        {
            look = default;
            if (entry.Stale)
            {
                // Another replica changed the agent: what the store says now counts (its mapping is looked up again).
                return PollStep.ReadAgentAgain;
            }
            if (entry.Revoked)
            {
                look = new PollLook(PollAnswer.RevokedAgent);
                return PollStep.Answered;
            }
            if (entry.MappingId is null && Stopwatch.GetElapsedTime(entry.MappingCheckedAt) >= recheck)
            {
                return PollStep.LinkMapping;
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
            if (mapping is { } mappingId && (entry.CheckedGeneration != generation || entry.UninstallRequested))
            {
                look = new PollLook(Mapping: mappingId, Generation: generation);
                return PollStep.Lease;
            }
            // Without a mapping, no job of its mapping can be yet to come.
            if (entry.UninstallRequested)
            {
                look = new PollLook(PollAnswer.UninstallAgent);
                return PollStep.Answered;
            }
            return Wait(entry, mapping, generation, waitFor, started, ct, out look);
        }
    }

    /// <summary>The poll's wait for its mapping's signal, or its answer (nothing) when its time is up.</summary>
    private PollStep Wait(AgentEntry entry, Guid? mapping, long generation, TimeSpan waitFor, long started, CancellationToken ct, out PollLook look)
    {
        var remaining = waitFor - Stopwatch.GetElapsedTime(started);
        if (remaining <= TimeSpan.Zero)
        {
            look = new PollLook(PollAnswer.Nothing);
            return PollStep.Answered;
        }
        var recheck = options.Value.RecheckInterval;
        // Without a mapping, the poll wakes to look for one every recheck; with one, only its signal or its time ends the wait.
        var nap = mapping is null && remaining > recheck ? recheck : remaining;
        // Woken by the mapping's signal, or at the end of the nap by the server's one sweep (without a mapping, only that).
        look = new PollLook(Waiting: signals.WaitAsync(mapping, generation, nap, entry.Waiter, ct));
        return PollStep.Waiting;
    }

    /// <summary>
    /// The poll from where <see cref="Look"/> left it to its answer: answers at once with a job if one is startable,
    /// otherwise waits for its mapping's signal up to <paramref name="waitFor"/> from <paramref name="started"/> (a
    /// <see cref="Stopwatch"/> timestamp).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<PollAnswer> PollAsync(AgentEntry entry, TimeSpan waitFor, long started, CancellationToken ct)
    {
        while (true)
        {
            switch (Look(entry, waitFor, started, ct, out var look))
            {
                case PollStep.Answered:
                    return look.Answer!;
                case PollStep.Waiting:
                    await look.Waiting;
                    ct.ThrowIfCancellationRequested();
                    break;
                case PollStep.ReadAgentAgain:
                    // An entry read again may go stale in turn: it is looked at afresh, never taken for a revocation.
                    if (await registry.FindAsync(entry.AgentId, ct) is not { } fresh)
                    {
                        return PollAnswer.RevokedAgent;
                    }
                    entry = fresh;
                    break;
                case PollStep.LinkMapping:
                    await LinkMappingAsync(entry, ct);
                    break;
                case PollStep.Lease:
                    entry.CheckedGeneration = look.Generation;
                    JobAssignment? assignment;
                    try
                    {
                        assignment = await leases.LeaseAsync(look.Mapping, entry.AgentId, ct, entry.PreviousPollUnanswered);
                    }
                    catch
                    {
                        // Nothing is known of the mapping's jobs: the batch may have failed before its lease or after it
                        // (its answer then lost, the job leased to this agent). The next poll looks in the store again,
                        // and gets that job again, instead of waiting for a signal: none would come, and the lease
                        // would lapse with an attempt counted that the device never made.
                        entry.CheckedGeneration = -1;
                        throw;
                    }
                    if (assignment is not null)
                    {
                        // The mapping may hold more startable jobs: the next poll looks again.
                        entry.CheckedGeneration = -1;
                        return new PollAnswer(assignment);
                    }
                    // Not while a job of its mapping is yet to come (scheduled, waiting for the destination or a
                    // prerequisite): the agent would be gone when it can start.
                    if (entry.UninstallRequested && !await HasActiveJobsAsync(look.Mapping, ct))
                    {
                        return PollAnswer.UninstallAgent;
                    }
                    // Waits on the generation it leased at (a signal since ends the wait at once), never looks again first:
                    // an agent told to uninstall whose jobs are yet to come would otherwise lease again and again.
                    if (Wait(entry, look.Mapping, look.Generation, waitFor, started, ct, out look) == PollStep.Answered)
                    {
                        return look.Answer!;
                    }
                    await look.Waiting;
                    ct.ThrowIfCancellationRequested();
                    break;
            }
        }
    }

    private async Task<bool> HasActiveJobsAsync(Guid id, CancellationToken ct)
    {
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

/// <summary>What <see cref="AgentPolls.Look"/> found: an answer, a wait, or what the poll needs the store for.</summary>
internal enum PollStep
{
    Answered,
    Waiting,
    ReadAgentAgain,
    LinkMapping,
    Lease,
}

/// <summary>The answer (<see cref="PollStep.Answered"/>), the wait (<see cref="PollStep.Waiting"/>), or the mapping and generation to lease at (<see cref="PollStep.Lease"/>).</summary>
internal readonly record struct PollLook(PollAnswer? Answer = null, ValueTask<bool> Waiting = default, Guid Mapping = default, long Generation = 0);
