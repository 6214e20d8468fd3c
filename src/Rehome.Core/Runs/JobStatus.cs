namespace Rehome.Core.Runs;

/// <summary>Where a job stands. Only <see cref="JobStateMachine"/> decides which change is allowed.</summary>
public enum JobStatus
{
    /// <summary>Ready; the device's agent picks it up.</summary>
    WaitingToStart = 1,

    /// <summary>The server prepares the destination first (computer account, offline join blob).</summary>
    WaitingForDestination = 2,

    /// <summary>Waits for the rejoin of the same mapping in the same run.</summary>
    WaitingForPrerequisite = 3,

    /// <summary>The run starts later, at its scheduled time.</summary>
    Scheduled = 4,

    InProgress = 5,

    Finished = 6,

    /// <summary>Done, with item-level errors.</summary>
    Exceptions = 7,

    Failed = 8,

    Stopped = 9,
}

/// <summary>Groupings of statuses used by the rules.</summary>
public static class JobStatuses
{
    /// <summary>Statuses of a job that is not over yet: a second job of the same kind is refused.</summary>
    public static IReadOnlyList<JobStatus> Active { get; } =
        [JobStatus.WaitingToStart, JobStatus.WaitingForDestination, JobStatus.WaitingForPrerequisite, JobStatus.Scheduled, JobStatus.InProgress];

    /// <summary>
    /// <see cref="Active"/> as a range of the statuses' numbers (it is one: a test holds it), for a query that reads a job
    /// per mapping through the (mapping, status) index: one range seek per mapping instead of one seek per status.
    /// </summary>
    public static (JobStatus First, JobStatus Last) ActiveRange { get; } = (JobStatus.WaitingToStart, JobStatus.InProgress);

    public static IReadOnlyList<JobStatus> Terminal { get; } =
        [JobStatus.Finished, JobStatus.Exceptions, JobStatus.Failed, JobStatus.Stopped];

    public static bool IsActive(this JobStatus status) => status is not (JobStatus.Finished or JobStatus.Exceptions or JobStatus.Failed or JobStatus.Stopped);

    /// <summary>A job over with this status may be run again.</summary>
    public static bool CanRerun(this JobStatus status) => status is JobStatus.Failed or JobStatus.Exceptions or JobStatus.Stopped;

    /// <summary>Every status <see cref="CanRerun"/> accepts, for queries.</summary>
    public static IReadOnlyList<JobStatus> Rerunnable { get; } = Enum.GetValues<JobStatus>().Where(CanRerun).ToArray();

    public static string DisplayName(this JobStatus status) => status switch
    {
        JobStatus.WaitingToStart => "Waiting to start",
        JobStatus.WaitingForDestination => "Waiting for destination",
        JobStatus.WaitingForPrerequisite => "Waiting for prerequisite",
        JobStatus.InProgress => "In progress",
        _ => status.ToString(),
    };
}
