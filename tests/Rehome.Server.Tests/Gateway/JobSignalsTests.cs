using System.Diagnostics;
using Rehome.Server.Gateway;

namespace Rehome.Server.Tests.Gateway;

/// <summary>
/// The long poll's wait: each agent's reusable <see cref="PollWaiter"/>, woken by its mapping's signal or ended by the
/// server's one sweep. A wait that is never ended, or a signal that wakes nobody, would hang these tests (each has a
/// generous safety limit that fails it) or leave <see cref="JobSignals.Waiting"/> above zero.
/// </summary>
public sealed class JobSignalsTests : IDisposable
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan SafetyLimit = TimeSpan.FromSeconds(60);

    private readonly JobSignals signals = new();

    public void Dispose() => signals.Dispose();

    [Fact]
    public async Task One_signal_wakes_every_poll_waiting_for_the_mapping_and_none_of_another()
    {
        var mapping = Guid.NewGuid();
        var other = Guid.NewGuid();
        var waiters = Enumerable.Range(0, 500).Select(_ => new PollWaiter()).ToArray();
        var waits = waiters.Select(w => signals.WaitAsync(mapping, signals.Generation(mapping), Long, w, CancellationToken.None).AsTask()).ToArray();
        using var elsewhere = new CancellationTokenSource();
        var otherWait = signals.WaitAsync(other, signals.Generation(other), Long, new PollWaiter(), elsewhere.Token).AsTask();
        Assert.Equal(501, signals.Waiting);

        signals.SignalHere([mapping]);

        Assert.All(await Task.WhenAll(waits).WaitAsync(SafetyLimit), Assert.True);
        Assert.False(otherWait.IsCompleted);
        Assert.Equal(1, signals.Waiting);
        await elsewhere.CancelAsync();
        Assert.False(await otherWait.WaitAsync(SafetyLimit));
        Assert.Equal(0, signals.Waiting);
    }

    [Fact]
    public async Task A_wait_that_times_out_answers_false_and_the_same_waiter_is_then_woken_by_a_signal()
    {
        var mapping = Guid.NewGuid();
        var waiter = new PollWaiter();

        Assert.False(await signals.WaitAsync(mapping, signals.Generation(mapping), TimeSpan.FromMilliseconds(1), waiter, CancellationToken.None).AsTask().WaitAsync(SafetyLimit));
        Assert.Equal(0, signals.Waiting);

        var next = signals.WaitAsync(mapping, signals.Generation(mapping), Long, waiter, CancellationToken.None).AsTask();
        Assert.Equal(1, signals.Waiting);
        signals.SignalHere([mapping]);
        Assert.True(await next.WaitAsync(SafetyLimit));
        Assert.Equal(0, signals.Waiting);
    }

    [Fact]
    public async Task A_signal_between_the_polls_look_and_its_wait_is_not_lost()
    {
        var mapping = Guid.NewGuid();
        var seen = signals.Generation(mapping);
        signals.SignalHere([mapping]);

        var wait = signals.WaitAsync(mapping, seen, Long, new PollWaiter(), CancellationToken.None);

        Assert.True(wait.IsCompleted);
        Assert.True(await wait);
        Assert.Equal(0, signals.Waiting);
    }

    [Fact]
    public async Task An_aborted_poll_stops_waiting_and_leaves_nothing_behind()
    {
        var mapping = Guid.NewGuid();
        using var aborted = new CancellationTokenSource();
        var wait = signals.WaitAsync(mapping, signals.Generation(mapping), Long, new PollWaiter(), aborted.Token).AsTask();
        var unmapped = signals.WaitAsync(null, 0, Long, new PollWaiter(), aborted.Token).AsTask();
        Assert.Equal(2, signals.Waiting);

        await aborted.CancelAsync();

        Assert.False(await wait.WaitAsync(SafetyLimit));
        Assert.False(await unmapped.WaitAsync(SafetyLimit));
        Assert.Equal(0, signals.Waiting);
    }

    [Fact]
    public async Task Two_polls_of_one_agent_at_once_each_get_their_answer()
    {
        var mapping = Guid.NewGuid();
        var waiter = new PollWaiter();
        var first = signals.WaitAsync(mapping, signals.Generation(mapping), Long, waiter, CancellationToken.None).AsTask();
        var second = signals.WaitAsync(mapping, signals.Generation(mapping), Long, waiter, CancellationToken.None).AsTask();
        Assert.Equal(2, signals.Waiting);

        signals.SignalHere([mapping]);

        Assert.Equal(new[] { true, true }, await Task.WhenAll(first, second).WaitAsync(SafetyLimit));
        Assert.Equal(0, signals.Waiting);
    }

    [Fact]
    public async Task Many_rounds_of_timeouts_and_wakes_on_the_same_waiters_leave_no_wait_behind()
    {
        var mappings = Enumerable.Range(0, 20).Select(_ => Guid.NewGuid()).ToArray();
        var waiters = mappings.Select(_ => new PollWaiter()).ToArray();
        for (var round = 0; round < 20; round++)
        {
            var waits = mappings.Select((m, i) => signals.WaitAsync(
                m, signals.Generation(m), i % 2 == 0 ? TimeSpan.FromMilliseconds(1) : Long, waiters[i], CancellationToken.None).AsTask()).ToArray();
            signals.SignalHere(mappings.Where((_, i) => i % 2 == 1));
            var answers = await Task.WhenAll(waits).WaitAsync(SafetyLimit);
            // The odd ones were woken; the even ones (no signal for their mappings) timed out.
            Assert.Equal(mappings.Select((_, i) => i % 2 == 1), answers);
            Assert.Equal(0, signals.Waiting);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_woken_poll_goes_on_from_the_thread_pool_never_inside_the_signal_or_the_sweep_that_ended_its_wait(bool signalled)
    {
        var mapping = Guid.NewGuid();
        // A long wait either way: the server's own sweep (every 250 ms) must not end it before the poll awaits it.
        var wait = signals.WaitAsync(mapping, signals.Generation(mapping), Long, new PollWaiter(), CancellationToken.None);
        var awaiter = wait.GetAwaiter();
        using var release = new ManualResetEventSlim();
        var wokenOnThePool = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var answer = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        // The poll goes on and blocks: run inside the slot's lock, it would hold the signal or the sweep (and every other poll).
        // Registered from the pool, as a request's is: the test runner's synchronization context would take it otherwise.
        await Task.Run(() => awaiter.UnsafeOnCompleted(() =>
        {
            wokenOnThePool.SetResult(Thread.CurrentThread.IsThreadPoolThread);
            release.Wait(SafetyLimit);
            answer.SetResult(awaiter.GetResult());
        }));
        try
        {
            // From a thread of its own, not the pool's: a wake run inline would be seen there.
            var ending = Task.Factory.StartNew(() =>
            {
                if (signalled)
                {
                    signals.SignalHere(mapping);
                }
                else
                {
                    signals.Sweep(Stopwatch.GetTimestamp() + (long)((Long.TotalSeconds + 60) * Stopwatch.Frequency));
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

            Assert.True(await wokenOnThePool.Task.WaitAsync(SafetyLimit));
            // The signal (or sweep) has returned while the woken poll is still blocked.
            await ending.WaitAsync(SafetyLimit);
        }
        finally
        {
            release.Set();
        }
        Assert.Equal(signalled, await answer.Task.WaitAsync(SafetyLimit));
        Assert.Equal(0, signals.Waiting);
    }

    /// <summary>Past every slot's idle lifetime, and still short of a day-long wait's deadline.</summary>
    private static long AfterIdleLifetime() =>
        Stopwatch.GetTimestamp() + (long)((JobSignals.IdleSlotLifetime.TotalSeconds + 1) * Stopwatch.Frequency);

    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    [Fact]
    public async Task A_slot_nobody_uses_is_retired_after_its_idle_lifetime_and_one_a_poll_waits_on_is_kept()
    {
        var signalled = Enumerable.Range(0, 100).Select(_ => Guid.NewGuid()).ToArray();
        signals.SignalHere(signalled);
        var held = Guid.NewGuid();
        var wait = signals.WaitAsync(held, signals.Generation(held), Day, new PollWaiter(), CancellationToken.None).AsTask();
        Assert.Equal(101, signals.Slots);

        signals.Sweep(AfterIdleLifetime());

        Assert.Equal(1, signals.Slots);
        Assert.False(wait.IsCompleted);
        signals.SignalHere([held]);
        Assert.True(await wait.WaitAsync(SafetyLimit));
        Assert.Equal(0, signals.Waiting);
    }

    [Fact]
    public async Task A_signal_while_the_polls_slot_is_retired_between_its_look_and_its_wait_is_not_lost()
    {
        var mapping = Guid.NewGuid();
        var seen = signals.Generation(mapping);
        signals.Sweep(AfterIdleLifetime());
        Assert.Equal(0, signals.Slots);

        signals.SignalHere([mapping]);
        var wait = signals.WaitAsync(mapping, seen, Day, new PollWaiter(), CancellationToken.None);

        Assert.True(wait.IsCompleted);
        Assert.True(await wait);
    }

    [Fact]
    public async Task A_slot_made_again_never_repeats_a_generation_of_the_one_it_replaces()
    {
        var mapping = Guid.NewGuid();
        var other = Guid.NewGuid();
        signals.SignalHere([mapping]);
        var seen = signals.Generation(mapping);
        // Retired and made again by a signal: same count of signals for the mapping, yet another generation.
        signals.Sweep(AfterIdleLifetime());
        signals.SignalHere([other, mapping]);

        Assert.NotEqual(seen, signals.Generation(mapping));
        Assert.True(await signals.WaitAsync(mapping, seen, Day, new PollWaiter(), CancellationToken.None).AsTask().WaitAsync(SafetyLimit));
    }

    [Fact]
    public async Task A_poll_whose_slot_was_retired_without_a_signal_waits_on_the_new_one_and_is_woken_by_the_next_signal()
    {
        var mapping = Guid.NewGuid();
        var seen = signals.Generation(mapping);
        signals.Sweep(AfterIdleLifetime());

        var wait = signals.WaitAsync(mapping, seen, Day, new PollWaiter(), CancellationToken.None).AsTask();
        Assert.Equal(1, signals.Slots);
        Assert.False(wait.IsCompleted);

        signals.SignalHere([mapping]);
        Assert.True(await wait.WaitAsync(SafetyLimit));
    }

    [Fact]
    public async Task Signals_racing_with_the_sweep_that_retires_their_slot_are_never_lost_and_leave_no_slot_behind()
    {
        var mappings = Enumerable.Range(0, 8).Select(_ => Guid.NewGuid()).ToArray();
        for (var round = 0; round < 300; round++)
        {
            // Each poll has looked (its generation read) and is about to wait while its job's signal and a sweep that
            // may retire its slot run at once: every wait must end signalled, whichever comes first.
            var seen = mappings.Select(signals.Generation).ToArray();
            var signal = Task.Run(() => signals.SignalHere(mappings));
            var sweep = Task.Run(() => signals.Sweep(AfterIdleLifetime()));
            var waits = mappings.Select((m, i) => signals.WaitAsync(m, seen[i], Day, new PollWaiter(), CancellationToken.None).AsTask()).ToArray();
            await Task.WhenAll(signal, sweep).WaitAsync(SafetyLimit);
            Assert.All(await Task.WhenAll(waits).WaitAsync(SafetyLimit), Assert.True);
        }
        signals.Sweep(AfterIdleLifetime());
        Assert.Equal(0, signals.Slots);
        Assert.Equal(0, signals.Waiting);
    }
}
