namespace Rehome.Agent.Jobs;

/// <summary>
/// One step of a job. The runner journals the step before its effect and after it; when the agent stopped in
/// between, <see cref="IsAlreadyDoneAsync"/> decides whether the effect happened, and the step runs again if not.
/// </summary>
public abstract class JobStep
{
    public virtual string Name => GetType().Name.Replace("Step", "", StringComparison.Ordinal);

    /// <summary>
    /// Once this step has begun, the job is finished rather than stopped or rolled back by the runner (a device
    /// that left its source goes on to its destination: stopping there would strand it).
    /// </summary>
    public virtual bool PointOfNoReturn => false;

    /// <summary>Whether a stop undoes this step (a locked session is unlocked; a changed ACL stays, revertable).</summary>
    public virtual bool UndoOnStop => false;

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
