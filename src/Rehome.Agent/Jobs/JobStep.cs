namespace Rehome.Agent.Jobs;

/// <summary>What the runner does when a step fails after the job's point of no return (the device left its source).</summary>
public enum AfterLeavingFailure
{
    /// <summary>The device cannot reach its destination this way: it goes back to its source through the return ticket.</summary>
    ReturnToSource,

    /// <summary>The device is where it should be; the failure is reported (the job ends with Exceptions) and the job goes on.</summary>
    CarryOn,
}

/// <summary>
/// One step of a job. The runner journals the step before its effect and after it; when the agent stopped in
/// between, <see cref="IsAlreadyDoneAsync"/> decides whether the effect happened, and the step runs again if not.
/// </summary>
public abstract class JobStep
{
    public virtual string Name => GetType().Name.Replace("Step", "", StringComparison.Ordinal);

    /// <summary>
    /// Once this step has begun, the job is never stopped or rolled back: a device that left its source goes on
    /// to its destination, or back to its source through its return ticket, never to a half state.
    /// </summary>
    public virtual bool PointOfNoReturn => false;

    /// <summary>
    /// Once this step is done the device is safe whatever happens next (in its destination, users let in): a lease
    /// lost after it stops the job until the server hands it back, rather than the device going on alone.
    /// </summary>
    public virtual bool SafeEnd => false;

    /// <summary>Whether a stop undoes this step (a locked session is unlocked; a changed ACL stays, revertable).</summary>
    public virtual bool UndoOnStop => false;

    /// <summary>
    /// Whether the revert of a finished job undoes this step. Not for a step whose undo only releases what the job
    /// held while it ran (a session lock): the revert never took it, and must not release another's.
    /// </summary>
    public virtual bool UndoneByRevert => true;

    /// <summary>After the point of no return: how many times the runner tries the step before <see cref="WhenFailedAfterLeaving"/>.</summary>
    public virtual int Attempts => 1;

    /// <summary>After the point of no return: what a failure of this step (every attempt spent) leads to.</summary>
    public virtual AfterLeavingFailure WhenFailedAfterLeaving => AfterLeavingFailure.ReturnToSource;

    public virtual Task<bool> IsAlreadyDoneAsync(JobContext context) => Task.FromResult(false);

    public abstract Task RunAsync(JobContext context);

    /// <summary>Reverts the step's effect, from what it journaled (the job's rollback runs these in reverse).</summary>
    public virtual Task UndoAsync(JobContext context) => Task.CompletedTask;
}

/// <summary>A step failed for a reason worth telling the administrator; <see cref="Code"/> is stable for automation.</summary>
public sealed class StepFailedException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
