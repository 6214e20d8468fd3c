using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore.Storage;
using Rehome.Server.Store;

namespace Rehome.Server.Gateway;

/// <summary>
/// Wakes the long polls of agents whose mapping has a job to start. Every write that makes a job startable
/// ends with <see cref="CommitAndSignalAsync"/>; a poll remembers the generation it last looked at in the store, so an
/// idle poll costs no query at all, and a signal that lands between the look and the wait is not lost.
/// With a <see cref="IJobSignalRelay"/> (PostgreSQL) every signal also reaches the other replicas' polls.
/// </summary>
public sealed class JobSignals
{
    private readonly ConcurrentDictionary<Guid, Slot> slots = new();
    private readonly IJobSignalRelay? relay;

    /// <summary>Signals for this process only (SQLite: one server).</summary>
    public JobSignals()
    {
    }

    /// <summary>Signals that <paramref name="relay"/> carries to the other replicas as well.</summary>
    public JobSignals(IJobSignalRelay relay) => this.relay = relay;

    public long Generation(Guid mappingId) => slots.GetOrAdd(mappingId, _ => new Slot()).Generation;

    /// <summary>
    /// Ends the unit of work that made the mappings' jobs startable and wakes their polls here and on every other
    /// replica. The other replicas are told inside the transaction (PostgreSQL delivers a NOTIFY at the commit, and
    /// never after a rollback), so a replica that dies right after its commit cannot leave them to their recheck;
    /// this process's polls are woken after the commit, so that they find the jobs.
    /// </summary>
    public async Task CommitAndSignalAsync(IDbContextTransaction transaction, StoreCommands store, IEnumerable<Guid> mappingIds, CancellationToken ct)
    {
        var ids = mappingIds.Distinct().ToList();
        if (relay is not null && ids.Count > 0)
        {
            await relay.AnnounceAsync(store, ids, ct);
        }
        await transaction.CommitRegardlessAsync();
        SignalHere(ids);
    }

    /// <summary>Wakes this process's polls of these mappings only: for a signal another replica sent.</summary>
    public void SignalHere(IEnumerable<Guid> mappingIds)
    {
        foreach (var id in mappingIds)
        {
            slots.GetOrAdd(id, _ => new Slot()).Signal();
        }
    }

    /// <summary>
    /// Wakes every poll waiting here, each to look in the store once: after a gap in which other replicas'
    /// signals may have been missed (the listening connection was lost).
    /// </summary>
    public void SignalEverything()
    {
        foreach (var slot in slots.Values)
        {
            slot.Signal();
        }
    }

    /// <summary>Waits until the mapping's generation moves past <paramref name="seen"/>, or the time runs out.</summary>
    public async Task WaitAsync(Guid mappingId, long seen, TimeSpan timeout, CancellationToken ct)
    {
        var slot = slots.GetOrAdd(mappingId, _ => new Slot());
        var next = slot.Next;
        if (slot.Generation != seen || timeout <= TimeSpan.Zero)
        {
            return;
        }
        try
        {
            await next.WaitAsync(timeout, ct);
        }
        catch (TimeoutException)
        {
            // Nothing new: the poll answers "no job" and the agent polls again.
        }
    }

    private sealed class Slot
    {
        private long generation;
        private TaskCompletionSource next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long Generation => Interlocked.Read(ref generation);

        public Task Next => Volatile.Read(ref next).Task;

        public void Signal()
        {
            var fresh = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            // The generation moves before the old task completes, so a woken poll sees it.
            Interlocked.Increment(ref generation);
            Interlocked.Exchange(ref next, fresh).TrySetResult();
        }
    }
}

/// <summary>Carries a replica's job signals to the other replicas (PostgreSQL <c>NOTIFY</c>).</summary>
public interface IJobSignalRelay
{
    /// <summary>Tells the other replicas about the mappings in the transaction of <paramref name="store"/>: they hear it when it commits.</summary>
    Task AnnounceAsync(StoreCommands store, IReadOnlyCollection<Guid> mappingIds, CancellationToken ct);

    /// <summary>
    /// Tells the other replicas that an agent was revoked or deleted, so that they drop what they remember of it and
    /// read it again from the store at its next request (a revoked agent must not go on through another replica).
    /// </summary>
    void PublishAgentChanged(Guid agentId);
}
