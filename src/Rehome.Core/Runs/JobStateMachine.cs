namespace Rehome.Core.Runs;

/// <summary>
/// The one table of job status changes. The store writes a status only through a transition listed here,
/// and its SQL updates take their "from" statuses from <see cref="SourcesOf"/>, so a job can never jump
/// (say, from Failed back to In progress) whoever asks.
/// </summary>
public static class JobStateMachine
{
    private static readonly Dictionary<JobStatus, JobStatus[]> Allowed = new()
    {
        // A scheduled run's jobs are released at their time to what they would have been if started then.
        [JobStatus.Scheduled] =
            [JobStatus.WaitingToStart, JobStatus.WaitingForDestination, JobStatus.WaitingForPrerequisite, JobStatus.Failed, JobStatus.Stopped],
        [JobStatus.WaitingForDestination] = [JobStatus.WaitingToStart, JobStatus.Failed, JobStatus.Stopped],
        [JobStatus.WaitingForPrerequisite] = [JobStatus.WaitingToStart, JobStatus.WaitingForDestination, JobStatus.Failed, JobStatus.Stopped],
        [JobStatus.WaitingToStart] = [JobStatus.InProgress, JobStatus.Failed, JobStatus.Stopped],
        // A lapsed lease returns the job to its queue (WaitingToStart) unless a stop was asked for.
        [JobStatus.InProgress] = [JobStatus.Finished, JobStatus.Exceptions, JobStatus.Failed, JobStatus.Stopped, JobStatus.WaitingToStart],
        [JobStatus.Finished] = [],
        [JobStatus.Exceptions] = [],
        [JobStatus.Failed] = [],
        [JobStatus.Stopped] = [],
    };

    private static readonly Dictionary<JobStatus, JobStatus[]> Sources = Enum.GetValues<JobStatus>()
        .ToDictionary(to => to, to => Allowed.Where(pair => pair.Value.Contains(to)).Select(pair => pair.Key).ToArray());

    public static bool CanMove(JobStatus from, JobStatus to) => Allowed[from].Contains(to);

    /// <summary>Every status from which a job may move to <paramref name="to"/>.</summary>
    public static IReadOnlyList<JobStatus> SourcesOf(JobStatus to) => Sources[to];

    /// <summary>
    /// What stopping does: a job that is not running stops at once; a running job is asked to stop and
    /// stops when its agent acknowledges (or its lease lapses); a job that is over stays as it is.
    /// </summary>
    public static StopEffect Stop(JobStatus status) => status switch
    {
        JobStatus.InProgress => StopEffect.RequestFromAgent,
        _ when status.IsActive() => StopEffect.StopNow,
        _ => StopEffect.AlreadyOver,
    };

    /// <summary>What a waiting job becomes once its prerequisite is over.</summary>
    public static JobStatus AfterPrerequisite(JobStatus prerequisiteStatus, bool needsDestinationPreparation) => prerequisiteStatus switch
    {
        JobStatus.Finished or JobStatus.Exceptions =>
            needsDestinationPreparation ? JobStatus.WaitingForDestination : JobStatus.WaitingToStart,
        JobStatus.Failed or JobStatus.Stopped => JobStatus.Failed,
        _ => JobStatus.WaitingForPrerequisite,
    };

    /// <summary>The status a job takes when its run starts (now, or when a scheduled run is released).</summary>
    public static JobStatus AtStart(bool hasPrerequisite, bool needsDestinationPreparation) =>
        hasPrerequisite ? JobStatus.WaitingForPrerequisite
        : needsDestinationPreparation ? JobStatus.WaitingForDestination
        : JobStatus.WaitingToStart;
}

/// <summary>What a stop request does to a job.</summary>
public enum StopEffect
{
    StopNow,
    RequestFromAgent,
    AlreadyOver,
}

/// <summary>Stable error codes written on jobs, for automation and for the console's "what to do" text.</summary>
public static class JobErrorCodes
{
    public const string PrerequisiteFailed = "PrerequisiteFailed";
    public const string StoppedByAdministrator = "StoppedByAdministrator";
    public const string LeaseLapsed = "LeaseLapsed";

    /// <summary>The device was not heard of for longer than its policy's <c>DeviceOfflineLimit</c>.</summary>
    public const string DeviceOffline = "DeviceOffline";
}
