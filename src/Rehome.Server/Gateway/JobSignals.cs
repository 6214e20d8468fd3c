using System.Collections.Concurrent;

namespace Rehome.Server.Gateway;

/// <summary>
/// Wakes the long polls of agents whose mapping has a job to start. Every write that makes a job startable
/// signals its mapping after it commits; a poll remembers the generation it last looked at in the store, so an
/// idle poll costs no query at all, and a signal that lands between the look and the wait is not lost.
/// </summary>
public sealed class JobSignals
{
    private readonly ConcurrentDictionary<Guid, Slot> slots = new();

    public long Generation(Guid mappingId) => slots.GetOrAdd(mappingId, _ => new Slot()).Generation;

    public void Signal(Guid mappingId) => slots.GetOrAdd(mappingId, _ => new Slot()).Signal();

    public void Signal(IEnumerable<Guid> mappingIds)
    {
        foreach (var id in mappingIds)
        {
            Signal(id);
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
