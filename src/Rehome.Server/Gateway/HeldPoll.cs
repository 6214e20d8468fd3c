using System.Runtime.CompilerServices;

namespace Rehome.Server.Gateway;

/// <summary>
/// An idle poll held until its agent's waiter wakes it, written out by hand rather than as an async method: a held poll
/// then allocates only its request's task (a <see cref="TaskCompletionSource"/>'s), where an async method's box carried
/// the whole wait's state for every poll. Each agent keeps one (<see cref="AgentEntry.HeldPoll"/>), used by its polls
/// one after the other; a poll held while another of the same agent is (agents do not, but anyone with its credential
/// may) gets one of its own. The steps are <see cref="AgentPollEndpoint"/>'s: look again after each wake, then finish.
/// </summary>
internal sealed class HeldPoll
{
    private readonly Action woken;
    private int busy;
    private AgentPollEndpoint? endpoint;
    private HttpContext? http;
    private AgentEntry? agent;
    private TimeSpan waitFor;
    private long started;
    private RequestDelegate? answerPipeline;
    private ExecutionContext? context;
    private TaskCompletionSource? done;
    private ValueTaskAwaiter<bool> waiting;

    public HeldPoll() => woken = Woken;

    /// <summary>Whether a poll holds this one now (for tests: one never given back would make every later poll allocate its own).</summary>
    internal bool Taken => Volatile.Read(ref busy) == 1;

    /// <summary>Holds the poll until <paramref name="wait"/> ends and goes on from there; returns the request's task.</summary>
    public static Task Hold(AgentPollEndpoint endpoint, HttpContext http, AgentEntry agent, TimeSpan waitFor, long started,
        ValueTask<bool> wait, RequestDelegate? answerPipeline)
    {
        var held = agent.HeldPoll;
        if (Interlocked.Exchange(ref held.busy, 1) != 0)
        {
            held = new HeldPoll { busy = 1 };
        }
        // A local: once the poll is answered this holder may already serve the agent's next poll.
        var done = new TaskCompletionSource();
        (held.endpoint, held.http, held.agent, held.waitFor, held.started, held.answerPipeline, held.done) =
            (endpoint, http, agent, waitFor, started, answerPipeline, done);
        // The request's execution context goes on after each wake, as an await's would.
        held.context = ExecutionContext.Capture();
        held.Await(wait);
        return done.Task;
    }

    private void Await(ValueTask<bool> wait)
    {
        waiting = wait.GetAwaiter();
        if (waiting.IsCompleted)
        {
            Continue();
        }
        else
        {
            waiting.UnsafeOnCompleted(woken);
        }
    }

    /// <summary>The waiter woke the poll, on the thread pool: go on in the request's execution context.</summary>
    private void Woken()
    {
        if (context is { } captured)
        {
            ExecutionContext.Run(captured, static self => ((HeldPoll)self!).Continue(), this);
        }
        else
        {
            Continue();
        }
    }

    private void Continue()
    {
        var done = this.done!;
        Task finishing;
        try
        {
            // Gives the agent's waiter back.
            waiting.GetResult();
            waiting = default;
            var step = endpoint!.LookAgain(http!, agent!, waitFor, started, answerPipeline, out var look, out var failure);
            if (step == PollStep.Waiting && failure is null)
            {
                Await(look.Waiting);
                return;
            }
            finishing = endpoint.Finish(http!, agent!, waitFor, started, step, look, failure, answerPipeline);
        }
        catch (Exception e)
        {
            Release();
            // Canceled (the request aborted) or faulted, as the async method's task ended.
            _ = e is OperationCanceledException canceled ? done.TrySetCanceled(canceled.CancellationToken) : done.TrySetException(e);
            return;
        }
        Release();
        if (finishing.IsCompletedSuccessfully)
        {
            done.TrySetResult();
        }
        else
        {
            // The request's task ends as its answer does (the rarer ways on: a job's assignment, the store's look, a failure).
            finishing.ContinueWith(static (finished, state) => ((TaskCompletionSource)state!).TrySetFromTask(finished), done,
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>Forgets the poll (its request, its task) and frees this holder for the agent's next poll.</summary>
    private void Release()
    {
        (endpoint, http, agent, answerPipeline, context, done) = (null, null, null, null, null, null);
        Volatile.Write(ref busy, 0);
    }
}
