namespace Rehome.Core.Runs;

/// <summary>
/// What an administrator can do about a job that did not finish cleanly, by its status and error code: the
/// console's mapping report and the run and project reports say the same.
/// </summary>
public static class JobAdvice
{
    /// <summary>Whether a job over with this status belongs in a report's list of failures (it has advice).</summary>
    public static bool IsFailure(JobStatus status) => status is JobStatus.Failed or JobStatus.Exceptions or JobStatus.Stopped;

    /// <summary>Every status <see cref="IsFailure"/> accepts, for queries.</summary>
    public static IReadOnlyList<JobStatus> FailureStatuses { get; } = Enum.GetValues<JobStatus>().Where(IsFailure).ToArray();

    /// <summary>The advice for a job over with <paramref name="status"/> and <paramref name="errorCode"/>; null when there is nothing to do.</summary>
    public static string? For(JobStatus status, string? errorCode) => (status, errorCode) switch
    {
        (JobStatus.Failed, JobErrorCodes.PrerequisiteFailed) => "The rejoin this job waited for did not finish: re-run the rejoin, then this job.",
        (JobStatus.Failed, JobErrorCodes.LeaseLapsed or JobErrorCodes.DeviceOffline) =>
            "The agent stopped answering during the job: check the device is on and its agent runs, then re-run.",
        (JobStatus.Failed, _) => "The device rolled back what the job had changed. Fix the cause named here, then re-run the job.",
        (JobStatus.Exceptions, _) => "The job finished, but some items could not be changed: the mapping's report lists them; fix them (or the identity mappings), then re-run.",
        (JobStatus.Stopped, _) => "Stopped by an administrator; re-run the job when ready.",
        _ => null,
    };
}
