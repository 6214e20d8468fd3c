using Rehome.Core.Connections;

namespace Rehome.Core.Runs;

/// <summary>
/// Turns "these mappings × these jobs" into the jobs to write and the refusals to show, by the rules of
/// DESIGN.md. Pure: the same facts give the same plan, whoever asks (API, console, CLI).
/// </summary>
public static class RunPlanner
{
    public static RunPlan Plan(
        RunRequest request, ProjectFacts project, IReadOnlyDictionary<Guid, MappingFacts> mappings, DateTimeOffset now)
    {
        var startAt = request.StartAt is { } at && at > now ? at : now;
        var scheduled = startAt > now;
        var kinds = request.Kinds.Distinct().Order().ToList();
        var mappingIds = request.MappingIds.Distinct().ToList();
        var dryRun = request.DryRun;

        if (startAt > now + RunRules.MaxScheduleAhead)
        {
            return Refused(RunRules.StartTooFarAhead,
                $"A run starts at most {RunRules.MaxScheduleAhead.TotalDays:N0} days ahead (by {now + RunRules.MaxScheduleAhead:yyyy-MM-dd HH:mm} UTC); choose an earlier start time.",
                now, "startAt");
        }
        if (kinds.Count == 0)
        {
            return Refused(RunRules.NoJobKinds, "Choose at least one job to run.", startAt, "kinds");
        }
        var unknown = kinds.Where(k => !Enum.IsDefined(k)).ToList();
        if (unknown.Count > 0)
        {
            return Refused(RunRules.UnknownJobKind, $"'{(int)unknown[0]}' is not a job kind.", startAt, "kinds");
        }
        if (dryRun && kinds.Where(k => !k.CanDryRun()).ToList() is [var other, ..])
        {
            return Refused(RunRules.DryRunNotSupported,
                $"A dry run previews only Migrate permissions and Migrate Windows user profile; {other.DisplayName()} cannot be previewed. " +
                "Take it out of the jobs, or start it as a real run.", startAt, "dryRun");
        }
        if (mappingIds.Count == 0)
        {
            return Refused(RunRules.NoMappings, "Select at least one mapping to run.", startAt, "mappingIds");
        }
        if (mappingIds.Count > RunRules.MaxMappingsPerRun)
        {
            return Refused(RunRules.RunTooLarge,
                $"A run holds at most {RunRules.MaxMappingsPerRun:N0} mappings and {mappingIds.Count:N0} were selected. " +
                $"Split the selection into runs of {RunRules.MaxMappingsPerRun:N0} or fewer (for example by filter or by page).",
                startAt, "mappingIds");
        }

        var jobs = new List<PlannedJob>(mappingIds.Count * kinds.Count);
        var ids = new SequentialIds(now);
        var refusals = new List<Refusal>();
        foreach (var mappingId in mappingIds)
        {
            if (!mappings.TryGetValue(mappingId, out var mapping))
            {
                foreach (var kind in kinds)
                {
                    refusals.Add(new Refusal(mappingId, "", kind, RunRules.MappingNotInProject,
                        $"Mapping {mappingId} is not in this project (it was removed or moved); {kind.DisplayName()} was not started for it."));
                }
                continue;
            }
            Guid? rejoinInThisRun = null;
            // The mapping's jobs take their ids from one run item's (RunItems), so the store may keep them as one row.
            var item = ids.NextItem();
            foreach (var kind in kinds)
            {
                if (Check(kind, mapping, project, rejoinInThisRun, dryRun) is { } refusal)
                {
                    refusals.Add(refusal);
                    continue;
                }
                // A rejoin in the same run is always waited for, even by a device that rejoined before.
                var prerequisite = kind.NeedsRejoin() ? rejoinInThisRun : null;
                var needsPreparation = kind == JobKind.RejoinDomain && project.DestinationNeedsPreparation;
                var status = scheduled ? JobStatus.Scheduled : JobStateMachine.AtStart(prerequisite is not null, needsPreparation);
                var job = new PlannedJob(RunItems.JobId(item, kind), mapping.Id, kind, status, needsPreparation, prerequisite);
                jobs.Add(job);
                if (kind == JobKind.RejoinDomain)
                {
                    rejoinInThisRun = job.Id;
                }
            }
        }
        return new RunPlan(jobs, refusals, null, scheduled, startAt);
    }

    private static Refusal? Check(JobKind kind, MappingFacts mapping, ProjectFacts project, Guid? rejoinInThisRun, bool dryRun)
    {
        var job = kind.DisplayName();
        if (mapping.ActiveKinds.Contains(kind))
        {
            return Refuse(RunRules.JobAlreadyActive,
                $"{mapping.SourceDevice} already has a {job} job waiting or in progress; stop it or let it finish before starting another.");
        }
        switch (kind)
        {
            // A preview changes nothing on the device, so it needs no rejoin: it shows what the migration would do before it.
            case JobKind.MigratePermissions or JobKind.MigrateUserProfile
                when !dryRun && rejoinInThisRun is null && mapping.ActiveKinds.Contains(JobKind.RejoinDomain):
                // Even a device that rejoined before must not be re-permissioned while it rejoins again.
                return Refuse(RunRules.RejoinRequired,
                    $"{job} needs {mapping.SourceDevice} to have rejoined the destination. Its rejoin is under way in another run: start this job when that rejoin has finished.");
            case JobKind.MigratePermissions or JobKind.MigrateUserProfile when !dryRun && !mapping.HasRejoined && rejoinInThisRun is null:
                return Refuse(RunRules.RejoinRequired,
                    $"{job} needs {mapping.SourceDevice} to have rejoined the destination. Run Rejoin domain first, or select it in the same run so this job waits for it.");
            case JobKind.MigrateUserProfile when !mapping.HasPrimaryUsers:
                return Refuse(RunRules.ProfileNeedsUsers,
                    $"{job} needs the mapping's primary user and destination user; set both on {mapping.SourceDevice}'s mapping.");
            case JobKind.MigrateEntraIdGroups when !project.SourceEntraIdEnabled:
                return Refuse(RunRules.SourceEntraIdDisabled,
                    $"{job} needs the project's source connection to have its Entra ID part enabled; enable it on the source connection.");
            case JobKind.RejoinDomain when project.DestinationKind == ConnectionKind.EntraId && project.DestinationRejoinMethod == RejoinMethod.Online:
                // The connection rules refuse this combination now; a connection saved before them still has it.
                return Refuse(RunRules.EntraIdOnlineRejoinNotSupported,
                    $"{job} cannot join Microsoft Entra ID online: Windows needs a user's credentials for that. Set the destination connection to offline rejoin and upload its bulk enrollment package.");
            case JobKind.RegisterAutopilot when project.DestinationKind != ConnectionKind.EntraId || project.DestinationRejoinMethod != RejoinMethod.Offline:
                return Refuse(RunRules.AutopilotNeedsEntraIdOffline,
                    $"{job} is supported only when the destination is Microsoft Entra ID with offline rejoin; this project's destination is " +
                    $"{project.DestinationKind} with {project.DestinationRejoinMethod.ToString().ToLowerInvariant()} rejoin.");
            default:
                return null;
        }

        Refusal Refuse(string rule, string message) => new(mapping.Id, mapping.SourceDevice, kind, rule, message);
    }

    private static RunPlan Refused(string rule, string message, DateTimeOffset startAt, string field) =>
        new([], [], new RunRefusal(rule, message, field), false, startAt);
}
