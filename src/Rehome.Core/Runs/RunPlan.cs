namespace Rehome.Core.Runs;

/// <summary>One job the run will write, with the status it starts in.</summary>
public sealed record PlannedJob(
    Guid Id,
    Guid MappingId,
    JobKind Kind,
    JobStatus Status,
    bool NeedsDestinationPreparation,
    Guid? PrerequisiteJobId);

/// <summary>
/// Why one job of one mapping was not started. <see cref="Rule"/> is stable for automation;
/// <see cref="Message"/> is a sentence for a person.
/// </summary>
public sealed record Refusal(Guid MappingId, string SourceDevice, JobKind Kind, string Rule, string Message);

/// <summary>Why a whole run was refused (nothing was started); <see cref="Field"/> names the part of the request at fault, if one is.</summary>
public sealed record RunRefusal(string Rule, string Message, string? Field = null);

/// <summary>The outcome of the run rules: the jobs to write and the refusals to show, or a refusal of the whole run.</summary>
public sealed record RunPlan(
    IReadOnlyList<PlannedJob> Jobs,
    IReadOnlyList<Refusal> Refusals,
    RunRefusal? RunRefused,
    bool Scheduled,
    DateTimeOffset StartAt)
{
    public int MappingCount => Jobs.Select(j => j.MappingId).Distinct().Count();
}

/// <summary>The names of the run rules, as they appear in refusals.</summary>
public static class RunRules
{
    /// <summary>Ten times the 5,000 mappings the commercial product advises as a ceiling.</summary>
    public const int MaxMappingsPerRun = 50_000;

    /// <summary>The ceiling the seed (commercial) product advises for one run: above it Rehome warns and still starts.</summary>
    public const int AdvisedMappingsPerRun = 5_000;

    /// <summary>
    /// The warning for a selection above <see cref="AdvisedMappingsPerRun"/> (null at or below it): a warning, not a
    /// refusal, saying why Rehome allows it.
    /// </summary>
    public static string? SizeWarning(int mappingCount) => mappingCount <= AdvisedMappingsPerRun
        ? null
        : string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"This selection holds {mappingCount:N0} mappings; the seed product advises at most {AdvisedMappingsPerRun:N0} per run. " +
            $"Rehome still allows up to {MaxMappingsPerRun:N0}: a run's jobs are written in one batched transaction (50,000 mappings " +
            $"in about 4 s) and agents lease their jobs in batches as their polls wake, so a large run does not crowd out the server " +
            $"(measured in docs/benchmarks.md; a rehearsal ran 10,000 devices in one run). Smaller waves are still easier to follow and to stop.");

    /// <summary>How far ahead a run may be scheduled: beyond a year a start time is a typo, not a plan.</summary>
    public static readonly TimeSpan MaxScheduleAhead = TimeSpan.FromDays(365);

    public const string StartTooFarAhead = "StartTooFarAhead";

    public const string RunTooLarge = "RunTooLarge";
    public const string NoMappings = "NoMappings";
    public const string NoJobKinds = "NoJobKinds";
    public const string UnknownJobKind = "UnknownJobKind";
    public const string MappingNotInProject = "MappingNotInProject";
    public const string JobAlreadyActive = "JobAlreadyActive";
    public const string RejoinRequired = "RejoinRequired";
    public const string SourceEntraIdDisabled = "SourceEntraIdDisabled";
    public const string AutopilotNeedsEntraIdOffline = "AutopilotNeedsEntraIdOffline";

    /// <summary>Windows joins Microsoft Entra ID only with a user's credentials or a provisioning package: no online rejoin.</summary>
    public const string EntraIdOnlineRejoinNotSupported = "EntraIdOnlineRejoinNotSupported";
    public const string ProfileNeedsUsers = "ProfileNeedsUsers";

    /// <summary>A dry run was asked for a job kind that has no preview (only permissions and profile have one).</summary>
    public const string DryRunNotSupported = "DryRunNotSupported";
}
