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
/// A mapping's slot lives while polls use it: the sweep retires one that nobody has read or waited on for
/// <see cref="IdleSlotLifetime"/> (a mapping signalled once, an agent gone), so the slots do not grow with every
/// mapping ever signalled. Generations come from one counter for the server, so a slot made again never repeats a
/// generation a poll saw in the one it replaces: a poll holding the old one's looks in the store again, never misses a signal.
/// </summary>
public sealed class JobSignals : IDisposable
{
    /// <summary>How often the sweep ends the waits whose time is up: a timed-out poll answers up to this late.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a mapping's slot that no poll reads or waits on is kept before the sweep retires it.</summary>
    public static readonly TimeSpan IdleSlotLifetime = TimeSpan.FromMinutes(5);

    private static readonly long IdleSlotTicks = (long)(IdleSlotLifetime.TotalSeconds * Stopwatch.Frequency);

    private readonly ConcurrentDictionary<Guid, Slot> slots = new();

    /// <summary>The waits of agents without a mapping yet: no signal reaches them, only their time running out.</summary>
    private readonly Slot unmapped = new(0);

    /// <summary>The last generation given to any slot: a signal takes the next one, a new slot starts at the current one.</summary>
    private long generations;

    private readonly IJobSignalRelay? relay;
    private readonly Timer sweep;
    private readonly Lock sweeping = new();

    /// <summary>Signals for this process only (SQLite: one server).</summary>
    public JobSignals()
    {
        sweep = new Timer(static state => ((JobSignals)state!).SweepOnTimer(), this, SweepInterval, SweepInterval);
    }

    /// <summary>Signals that <paramref name="relay"/> carries to the other replicas as well.</summary>
    public JobSignals(IJobSignalRelay relay)
        : this() => this.relay = relay;

    public long Generation(Guid mappingId) => SlotOf(mappingId).Read();

    /// <summary>How many mappings have a slot now (for tests: slots that are never retired would grow without end).</summary>
    public int Slots => slots.Count;

    /// <summary>The mapping's slot, made if need be; one the sweep has just retired is replaced.</summary>
    private Slot SlotOf(Guid mappingId)
    {
        while (true)
        {
            var slot = slots.GetOrAdd(mappingId, static (_, self) => new Slot(Interlocked.Read(ref self.generations)), this);
            if (!slot.Retired)
            {
                return slot;
            }
            slots.TryRemove(new KeyValuePair<Guid, Slot>(mappingId, slot));
        }
    }

    /// <summary>How many polls wait here now (for tests: a wait that is never ended would stay counted).</summary>
    public int Waiting
    {
        get
        {
            var count = unmapped.Count;
            foreach (var (_, slot) in slots)
            {
                count += slot.Count;
            }
            return count;
        }
    }

    /// <summary>
    /// The mappings with a poll waiting here now (for <see cref="PollRecheck"/>), walked in place: the recheck runs for
    /// every waiting agent, and a list of them each time was an allocation per agent.
    /// </summary>
    public IEnumerable<Guid> WaitingMappings()
    {
        foreach (var (id, slot) in slots)
        {
            if (slot.Count > 0)
            {
                yield return id;
            }
        }
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
            SignalHere(id);
        }
    }

    /// <summary>Wakes this process's polls of this mapping only.</summary>
    public void SignalHere(Guid mappingId)
    {
        // A slot retired meanwhile takes no signal: its successor does (made now if need be).
        while (!SlotOf(mappingId).Signal(ref generations))
        {
        }
    }

    /// <summary>
    /// Wakes every poll waiting here, each to look in the store once: after a gap in which other replicas'
    /// signals may have been missed (the listening connection was lost).
    /// </summary>
    public void SignalEverything()
    {
        foreach (var (_, slot) in slots)
        {
            // A retired slot has no waiter to wake; its successor starts past every generation given so far.
            slot.Signal(ref generations);
        }
    }

    /// <summary>
    /// Waits until the mapping's generation moves past <paramref name="seen"/> (true), or the time runs out or the
    /// request is aborted (false: the caller looks at <paramref name="ct"/>). Without a mapping, only the time ends it.
    /// <paramref name="waiter"/> is the agent's own; a second poll of the same agent meanwhile gets one of its own.
    /// </summary>
    public ValueTask<bool> WaitAsync(Guid? mappingId, long seen, TimeSpan timeout, PollWaiter waiter, CancellationToken ct)
    {
        var slot = mappingId is { } id ? SlotOf(id) : unmapped;
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
            // A signal came after the poll's look in the store (or its slot was retired meanwhile): it looks again at once.
            waiter.CompleteBeforeAwaited(signalled: true);
        }
        return new ValueTask<bool>(waiter, token);
    }

    /// <summary>
    /// Ends the waits whose time is up or whose request was aborted, and retires the slots idle for
    /// <see cref="IdleSlotLifetime"/> (the timer's work, every <see cref="SweepInterval"/>; <paramref name="now"/> is a
    /// <see cref="Stopwatch"/> timestamp).
    /// </summary>
    internal void Sweep(long now)
    {
        lock (sweeping)
        {
            SweepNow(now);
        }
    }

    /// <summary>The timer's sweep: skipped while the previous one still runs, rather than queued behind it.</summary>
    private void SweepOnTimer()
    {
        if (!sweeping.TryEnter())
        {
            return;
        }
        try
        {
            SweepNow(Stopwatch.GetTimestamp());
        }
        finally
        {
            sweeping.Exit();
        }
    }

    private void SweepNow(long now)
    {
        unmapped.EndExpired(now);
        // The dictionary's own enumerator: Values would copy every slot into a new array four times a second.
        foreach (var (id, slot) in slots)
        {
            slot.EndExpired(now);
            if (slot.TryRetire(now, IdleSlotTicks))
            {
                slots.TryRemove(new KeyValuePair<Guid, Slot>(id, slot));
            }
        }
    }

    public void Dispose() => sweep.Dispose();

    /// <summary>A mapping's signal generation and the polls waiting for it to move (a list through the waiters themselves).</summary>
    internal sealed class Slot(long startsAt)
    {
        private readonly Lock gate = new();
        private long generation = startsAt;
        private PollWaiter? head;
        private int count;
        private long usedAt = Stopwatch.GetTimestamp();
        private volatile bool retired;

        public bool Retired => retired;

        public long Generation => Interlocked.Read(ref generation);

        public int Count => Volatile.Read(ref count);

        /// <summary>The generation, for a poll about to look in the store: the slot counts as in use.</summary>
        public long Read()
        {
            Volatile.Write(ref usedAt, Stopwatch.GetTimestamp());
            return Generation;
        }

        /// <summary>Adds the waiter unless the generation already moved past <paramref name="seen"/> (null: no generation to watch).</summary>
        public bool Add(PollWaiter waiter, long? seen)
        {
            lock (gate)
            {
                // Read under the lock, where a signal moves the generation: either this sees the new generation or the
                // signal finds the waiter in the list. A retired slot is out of the dictionary: no signal would find it.
                if (retired || (seen is { } s && Generation != s))
                {
                    return false;
                }
                usedAt = Stopwatch.GetTimestamp();
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

        /// <summary>Moves the generation to the server's next and wakes every waiter; false (nothing done) when the slot was retired.</summary>
        public bool Signal(ref long generations)
        {
            // Always under the lock, never "no waiter, nothing to do" before it: an Add that read the old generation
            // under the lock and has yet to link its waiter would otherwise be missed, and wait out its whole time.
            lock (gate)
            {
                if (retired)
                {
                    return false;
                }
                Interlocked.Exchange(ref generation, Interlocked.Increment(ref generations));
                var waiter = head;
                head = null;
                count = 0;
                while (waiter is not null)
                {
                    var next = waiter.Next;
                    waiter.Next = waiter.Previous = null;
                    // Each wait goes on from the thread pool, never inside this lock.
                    waiter.Complete(signalled: true);
                    waiter = next;
                }
            }
            return true;
        }

        /// <summary>Retires the slot if no poll waits on it and none has used it for <paramref name="idleTicks"/>; once retired, it takes no waiter and no signal.</summary>
        public bool TryRetire(long now, long idleTicks)
        {
            if (Count > 0 || now - Volatile.Read(ref usedAt) < idleTicks)
            {
                return false;
            }
            lock (gate)
            {
                if (count == 0 && now - usedAt >= idleTicks)
                {
                    retired = true;
                }
                return retired;
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
