using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage;
using Rehome.Server.Store;

namespace Rehome.Server.Gateway;

/// <summary>
/// Wakes the long polls of agents whose mapping has a job to start. Every write that makes a job startable
/// ends with <see cref="CommitAndSignalAsync"/>; a poll remembers the generation it last looked at in the store, so an
/// idle poll costs no query at all, and a signal that lands between the look and the wait is not lost.
/// With a <see cref="IJobSignalRelay"/> (PostgreSQL) every signal also reaches the other replicas' polls.
/// A waiting poll is its agent's <see cref="PollWaiter"/> in its mapping's list: a signal wakes the list, and ONE timer
/// for the whole server ends the waits whose time is up (or whose request was aborted), so that an idle poll allocates
/// no timer, task or exception of its own.
/// </summary>
public sealed class JobSignals : IDisposable
{
    /// <summary>How often the sweep ends the waits whose time is up: a timed-out poll answers up to this late.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(250);

    private readonly ConcurrentDictionary<Guid, Slot> slots = new();

    /// <summary>The waits of agents without a mapping yet: no signal reaches them, only their time running out.</summary>
    private readonly Slot unmapped = new();

    private readonly IJobSignalRelay? relay;
    private readonly Timer sweep;
    private int sweeping;

    /// <summary>Signals for this process only (SQLite: one server).</summary>
    public JobSignals()
    {
        sweep = new Timer(static state => ((JobSignals)state!).Sweep(), this, SweepInterval, SweepInterval);
    }

    /// <summary>Signals that <paramref name="relay"/> carries to the other replicas as well.</summary>
    public JobSignals(IJobSignalRelay relay)
        : this() => this.relay = relay;

    public long Generation(Guid mappingId) => slots.GetOrAdd(mappingId, static _ => new Slot()).Generation;

    /// <summary>How many polls wait here now (for tests: a wait that is never ended would stay counted).</summary>
    public int Waiting
    {
        get
        {
            var count = unmapped.Count;
            foreach (var slot in slots.Values)
            {
                count += slot.Count;
            }
            return count;
        }
    }

    /// <summary>The mappings with a poll waiting here now (for <see cref="PollRecheck"/>).</summary>
    public List<Guid> WaitingMappings()
    {
        var waiting = new List<Guid>();
        foreach (var (id, slot) in slots)
        {
            if (slot.Count > 0)
            {
                waiting.Add(id);
            }
        }
        return waiting;
    }

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
            slots.GetOrAdd(id, static _ => new Slot()).Signal();
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

    /// <summary>
    /// Waits until the mapping's generation moves past <paramref name="seen"/> (true), or the time runs out or the
    /// request is aborted (false: the caller looks at <paramref name="ct"/>). Without a mapping, only the time ends it.
    /// <paramref name="waiter"/> is the agent's own; a second poll of the same agent meanwhile gets one of its own.
    /// </summary>
    public ValueTask<bool> WaitAsync(Guid? mappingId, long seen, TimeSpan timeout, PollWaiter waiter, CancellationToken ct)
    {
        var slot = mappingId is { } id ? slots.GetOrAdd(id, static _ => new Slot()) : unmapped;
        if (timeout <= TimeSpan.Zero || ct.IsCancellationRequested)
        {
            return ValueTask.FromResult(false);
        }
        if (!waiter.TryTake())
        {
            waiter = new PollWaiter();
            waiter.TryTake();
        }
        var token = waiter.Start(Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency), ct);
        if (!slot.Add(waiter, mappingId is null ? null : seen))
        {
            // A signal came after the poll's look in the store: it looks again at once.
            waiter.Complete(signalled: true);
        }
        return new ValueTask<bool>(waiter, token);
    }

    /// <summary>Ends the waits whose time is up or whose request was aborted (the timer's work, every <see cref="SweepInterval"/>).</summary>
    internal void Sweep()
    {
        if (Interlocked.Exchange(ref sweeping, 1) == 1)
        {
            return;
        }
        try
        {
            var now = Stopwatch.GetTimestamp();
            unmapped.EndExpired(now);
            foreach (var slot in slots.Values)
            {
                slot.EndExpired(now);
            }
        }
        finally
        {
            Volatile.Write(ref sweeping, 0);
        }
    }

    public void Dispose() => sweep.Dispose();

    /// <summary>A mapping's signal generation and the polls waiting for it to move (a list through the waiters themselves).</summary>
    internal sealed class Slot
    {
        private readonly Lock gate = new();
        private long generation;
        private PollWaiter? head;
        private int count;

        public long Generation => Interlocked.Read(ref generation);

        public int Count => Volatile.Read(ref count);

        /// <summary>Adds the waiter unless the generation already moved past <paramref name="seen"/> (null: no generation to watch).</summary>
        public bool Add(PollWaiter waiter, long? seen)
        {
            lock (gate)
            {
                // Read under the lock: a signal moves the generation before it takes the lock, so either this sees the
                // new generation or the signal finds the waiter in the list.
                if (seen is { } s && Generation != s)
                {
                    return false;
                }
                waiter.Previous = null;
                waiter.Next = head;
                if (head is not null)
                {
                    head.Previous = waiter;
                }
                head = waiter;
                count++;
                return true;
            }
        }

        public void Signal()
        {
            Interlocked.Increment(ref generation);
            // Always under the lock, never "no waiter, nothing to do" before it: an Add that read the old generation
            // under the lock and has yet to link its waiter would otherwise be missed, and wait out its whole time.
            lock (gate)
            {
                var waiter = head;
                head = null;
                count = 0;
                while (waiter is not null)
                {
                    var next = waiter.Next;
                    waiter.Next = waiter.Previous = null;
                    // Continuations run on the thread pool, never inside this lock.
                    waiter.Complete(signalled: true);
                    waiter = next;
                }
            }
        }

        public void EndExpired(long now)
        {
            if (Volatile.Read(ref head) is null)
            {
                return;
            }
            lock (gate)
            {
                var waiter = head;
                while (waiter is not null)
                {
                    var next = waiter.Next;
                    if (now >= waiter.Deadline || waiter.Aborted.IsCancellationRequested)
                    {
                        if (waiter.Previous is { } previous)
                        {
                            previous.Next = next;
                        }
                        else
                        {
                            head = next;
                        }
                        if (next is not null)
                        {
                            next.Previous = waiter.Previous;
                        }
                        waiter.Next = waiter.Previous = null;
                        count--;
                        waiter.Complete(signalled: false);
                    }
                    waiter = next;
                }
            }
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
