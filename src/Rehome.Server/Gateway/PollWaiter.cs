using System.Threading.Tasks.Sources;

namespace Rehome.Server.Gateway;

/// <summary>
/// An agent's reusable long-poll wait: one per agent (kept in its <see cref="AgentEntry"/>), so an idle poll allocates
/// no task, timer or cancellation source. It is woken by its mapping's signal (<see cref="JobSignals"/>) or, when its
/// deadline passes or its request is aborted, by the one server-wide sweep; a timeout is an answer (false), not an
/// exception. Its wake runs on the thread pool, never inside the slot's lock that ends the wait: the waiter queues
/// itself there as the work item (<see cref="IThreadPoolWorkItem"/>), where a core told to run its continuations
/// asynchronously would wrap each one in a work item of its own, an allocation for every wake.
/// </summary>
public sealed class PollWaiter : IValueTaskSource<bool>, IThreadPoolWorkItem
{
    private ManualResetValueTaskSourceCore<bool> core;
    private int busy;
    private bool signalled;

    /// <summary>Links of the slot's list it waits in (guarded by that slot's lock).</summary>
    internal PollWaiter? Previous;
    internal PollWaiter? Next;

    /// <summary>When the wait ends without a signal (a <see cref="System.Diagnostics.Stopwatch"/> timestamp).</summary>
    internal long Deadline;

    internal CancellationToken Aborted;

    /// <summary>Whether a poll holds the waiter now (for tests: one never given back would make every later poll allocate its own).</summary>
    internal bool Taken => Volatile.Read(ref busy) == 1;

    /// <summary>Takes the waiter for one wait; false while another poll of the same agent holds it.</summary>
    internal bool TryTake() => Interlocked.Exchange(ref busy, 1) == 0;

    internal short Start(long deadline, CancellationToken aborted)
    {
        core.Reset();
        Deadline = deadline;
        Aborted = aborted;
        return core.Version;
    }

    /// <summary>
    /// Ends the wait: true when signalled, false when timed out or aborted. Called once a wait, by whoever took it off
    /// its list; the poll goes on from the thread pool.
    /// </summary>
    internal void Complete(bool signalled)
    {
        Aborted = default;
        this.signalled = signalled;
        // The pool's shared queue, not the local one of the thread that ended the wait: the sweep ends a hundred waits
        // at once on whichever pool thread runs its timer, and each such thread's local queue grew to hold them (the
        // pool's threads come and go, so that growth came back).
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    /// <summary>Ends a wait nobody awaits yet (its poll finds it ended and goes on at once).</summary>
    internal void CompleteBeforeAwaited(bool signalled)
    {
        Aborted = default;
        core.SetResult(signalled);
    }

    /// <summary>On the thread pool: the result set here runs the poll's continuation on this thread.</summary>
    void IThreadPoolWorkItem.Execute() => core.SetResult(signalled);

    public bool GetResult(short token)
    {
        // Given back only once the wait has ended: a waiter read too early must not be taken while still in a list.
        var signalled = core.GetResult(token);
        Volatile.Write(ref busy, 0);
        return signalled;
    }

    public ValueTaskSourceStatus GetStatus(short token) => core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        core.OnCompleted(continuation, state, token, flags);
}
