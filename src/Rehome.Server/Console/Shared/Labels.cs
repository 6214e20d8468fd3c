using System.Globalization;
using Rehome.Core.Runs;
using Rehome.Server.Mappings;

namespace Rehome.Server.Console.Shared;

/// <summary>How the console words statuses, stages and times.</summary>
public static class Labels
{
    public static string Status(JobStatus? status) => status?.DisplayName() ?? "Not started";

    public static string Status(string statusName) =>
        statusName == MappingQuery.NotStarted ? "Not started" : Enum.TryParse<JobStatus>(statusName, out var s) ? s.DisplayName() : statusName;

    public static string Stage(JobKind? stage) => stage?.DisplayName() ?? "—";

    public static string Time(DateTimeOffset? at) => at is { } t ? t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : "—";

    public static string Count(int n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>What an administrator can do about a job that did not finish cleanly.</summary>
    public static string? Advice(JobStatus status, string? errorCode) => (status, errorCode) switch
    {
        (JobStatus.Failed, "PrerequisiteFailed") => "The rejoin this job waited for did not finish: re-run the rejoin, then this job.",
        (JobStatus.Failed, "LeaseLost" or "TooManyAttempts") => "The agent stopped answering during the job: check the device is on and its agent runs, then re-run.",
        (JobStatus.Failed, _) => "The device rolled back what the job had changed. Fix the cause named here, then re-run the job.",
        (JobStatus.Exceptions, _) => "The job finished, but some items could not be changed: see the items below, fix them (or the identity mappings), then re-run.",
        (JobStatus.Stopped, _) => "Stopped by an administrator; re-run the job when ready.",
        _ => null,
    };
}
