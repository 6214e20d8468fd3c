using System.Collections.Concurrent;

namespace Rehome.Server.Gateway;

/// <summary>
/// Wakes the long polls of agents whose mapping has a job to start. Every write that makes a job startable
/// signals its mapping after it commits; a poll remembers the generation it last looked at in the store, so an
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

    /// <summary>Wakes the mapping's polls here and on every other replica (call after the commit).</summary>
    public void Signal(Guid mappingId) => Signal([mappingId]);

    /// <inheritdoc cref="Signal(Guid)"/>
    public void Signal(IEnumerable<Guid> mappingIds)
    {
        var ids = mappingIds as IReadOnlyCollection<Guid> ?? [.. mappingIds];
        SignalHere(ids);
        if (ids.Count > 0)
        {
            relay?.Publish(ids);
        }
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
    /// <summary>Sends the mappings' signal on, without waiting; a signal lost on the way is seen at the next recheck.</summary>
    void Publish(IReadOnlyCollection<Guid> mappingIds);

    /// <summary>
    /// Tells the other replicas that an agent was revoked or deleted, so that they drop what they remember of it and
    /// read it again from the store at its next request (a revoked agent must not go on through another replica).
    /// </summary>
    void PublishAgentChanged(Guid agentId);
}
