using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Runtime.InteropServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Rehome.Core.Cleanup;
using Rehome.Core.Mappings;
using Rehome.Core.Runs;
using Rehome.Server.Administration;
using Rehome.Server.Audit;
using Rehome.Server.Gateway;
using Rehome.Server.Mappings;
using Rehome.Server.Observability;
using Rehome.Server.Store;

namespace Rehome.Server.Runs;

/// <summary>Which mappings a run is for: explicit ids, or every mapping matching a filter.</summary>
public sealed record RunSelection(IReadOnlyList<Guid>? MappingIds, MappingFilter? Filter);

/// <summary>What a run start (or its preview) answers: the run, or why it was refused, and every per-mapping refusal.</summary>
public sealed record RunStartOutcome(
    Run? Run,
    int JobCount,
    int MappingCount,
    bool Scheduled,
    DateTimeOffset StartAt,
    IReadOnlyList<Refusal> Refusals,
    RunRefusal? RunRefused);

/// <summary>
/// Turns "select mappings → Migration → OK" into jobs: gathers the facts, asks <see cref="RunPlanner"/>, and
/// writes the run and all its jobs in one transaction (or, for a preview, writes nothing).
/// </summary>
public sealed class RunEngine(
    RehomeDbContext db, StoreCommands store, MappingSummaries summaries, JobSignals signals, AuditTrail audit, TimeProvider time,
    ILogger<RunEngine> logger, RehomeTelemetry telemetry, StoreStatistics statistics)
{
    /// <summary>The run items the last <see cref="WriteAsync"/> wrote (this engine serves one request).</summary>
    private int itemsWritten;

    public async Task<RunStartOutcome> StartAsync(
        Guid projectId, RunSelection selection, IReadOnlyList<JobKind> kinds, DateTimeOffset? startAt, bool preview, CancellationToken ct, bool dryRun = false)
    {
        using var observed = telemetry.StartRun(projectId, "start");
        var now = time.GetUtcNow();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var transaction = await BeginLockedAsync(projectId, preview, ct);
        if (transaction is not null && await ArchivedAsync(projectId, now, ct) is { } archived)
        {
            return archived;
        }
        var facts = await ProjectFactsAsync(projectId, ct);
        var selected = await SelectedAsync(projectId, selection, ct);
        var countTime = TimeSpan.Zero;
        IReadOnlyList<Guid> mappingIds;
        Dictionary<Guid, MappingFacts> mappings;
        // No facts are read for a selection larger than a run may hold: the planner refuses it before it looks at any mapping.
        if (selection.MappingIds is { } explicitIds)
        {
            mappingIds = explicitIds;
            mappings = explicitIds.Distinct().Count() > RunRules.MaxMappingsPerRun ? [] : await MappingFactsAsync(projectId, selected, ct);
        }
        else
        {
            // Counted only up to one more than a run holds: past that the planner refuses the run before it looks at
            // any mapping, and no facts are read.
            var counted = await selected.Take(RunRules.MaxMappingsPerRun + 1).CountAsync(ct);
            countTime = clock.Elapsed;
            if (counted > RunRules.MaxMappingsPerRun)
            {
                mappingIds = await selected.Select(m => m.Id).ToListAsync(ct);
                mappings = [];
            }
            else
            {
                // The matching mappings are the ones whose facts are read: one pass over them gives both.
                mappings = await MappingFactsAsync(projectId, selected, ct);
                mappingIds = [.. mappings.Keys];
            }
        }
        var factsTime = clock.Elapsed;
        var plan = RunPlanner.Plan(new RunRequest(mappingIds, kinds, startAt, dryRun), facts, mappings, now);
        var planTime = clock.Elapsed - factsTime;
        var outcome = await WriteAsync(projectId, plan, kinds, preview, rerunOf: null, dryRun, now, ct);
        if (transaction is not null)
        {
            await signals.CommitAndSignalAsync(transaction, store, Startable(plan), ct);
            statistics.RunItemsWritten(itemsWritten);
        }
        observed.Started(outcome);
        logger.LogInformation(
            "Run {RunId} on project {ProjectId}: {JobCount} jobs, {RefusalCount} refusals; facts {FactsMs:F0} ms (of which up to the count {CountMs:F0} ms), plan {PlanMs:F0} ms, write {WriteMs:F0} ms",
            outcome.Run?.Id, projectId, outcome.JobCount, outcome.Refusals.Count, factsTime.TotalMilliseconds, countTime.TotalMilliseconds, planTime.TotalMilliseconds,
            (clock.Elapsed - factsTime - planTime).TotalMilliseconds);
        return outcome;
    }

    /// <summary>
    /// Re-runs the jobs of a run that ended Failed, Exceptions or Stopped (optionally only some kinds): each
    /// mapping gets again exactly the kinds that did not finish, by the same rules as a new run.
    /// </summary>
    public async Task<RunStartOutcome> RerunAsync(Guid runId, IReadOnlyList<JobKind>? kinds, Guid? onlyJobId, bool preview, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var run = await db.Runs.AsNoTracking().FirstAsync(r => r.Id == runId, ct);
        using var observed = telemetry.StartRun(run.ProjectId, "rerun");
        await using var transaction = await BeginLockedAsync(run.ProjectId, preview, ct);
        if (transaction is not null && await ArchivedAsync(run.ProjectId, now, ct) is { } archived)
        {
            return archived;
        }
        // A revert is asked for again through its job (RevertAsync), not re-run as a migration.
        var query = db.Jobs.AsNoTracking().Where(j => j.RunId == runId && j.RevertOf == null &&
            JobStatuses.Rerunnable.Contains(j.Status));
        if (onlyJobId is { } jobId)
        {
            query = query.Where(j => j.Id == jobId);
        }
        var over = await query.Select(j => new { j.MappingId, j.Kind }).ToListAsync(ct);
        if (kinds is { Count: > 0 })
        {
            over = over.Where(j => kinds.Contains(j.Kind)).ToList();
        }
        var facts = await ProjectFactsAsync(run.ProjectId, ct);
        var mappings = await MappingFactsAsync(run.ProjectId, db.StoredMappings.Where(m => m.ProjectId == run.ProjectId), ct);
        // Mappings that need the same kinds again are planned together; the plans are then one run.
        var groups = over.GroupBy(j => j.MappingId)
            .GroupBy(g => string.Join(',', g.Select(j => j.Kind).Distinct().Order()), g => g.Key);
        var jobs = new List<PlannedJob>();
        var refusals = new List<Refusal>();
        var allKinds = new SortedSet<JobKind>();
        foreach (var group in groups)
        {
            var groupKinds = group.Key.Split(',').Select(Enum.Parse<JobKind>).ToList();
            allKinds.UnionWith(groupKinds);
            var part = RunPlanner.Plan(new RunRequest(group.ToList(), groupKinds, null, run.DryRun), facts, mappings, now);
            jobs.AddRange(part.Jobs);
            refusals.AddRange(part.Refusals);
        }
        var mappingCount = over.Select(j => j.MappingId).Distinct().Count();
        var plan = mappingCount == 0
            ? new RunPlan([], [], new RunRefusal("NothingToRerun", "No job of this run ended Failed, Exceptions or Stopped (for the kinds asked)."), false, now)
            : mappingCount > RunRules.MaxMappingsPerRun
                ? new RunPlan([], [], new RunRefusal(RunRules.RunTooLarge,
                    $"A run holds at most {RunRules.MaxMappingsPerRun:N0} mappings and {mappingCount:N0} need a re-run; re-run by kind or by filter."), false, now)
                : new RunPlan(jobs, refusals, null, false, now);
        var outcome = await WriteAsync(run.ProjectId, plan, allKinds.ToList(), preview, runId, run.DryRun, now, ct);
        if (transaction is not null)
        {
            await signals.CommitAndSignalAsync(transaction, store, Startable(plan), ct);
            statistics.RunItemsWritten(itemsWritten);
        }
        observed.Started(outcome);
        return outcome;
    }

    /// <summary>
    /// Reverts a finished permissions or profile job on its device: a new run of one job of the same kind, with
    /// <see cref="Job.RevertOf"/> set, that the mapping's agent leases as usual and that restores what the first one
    /// changed. <see cref="RunStartOutcome.RunRefused"/> says why not (<see cref="RevertRules"/>).
    /// </summary>
    public async Task<RunStartOutcome> RevertAsync(Guid jobId, Guid projectId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        using var observed = telemetry.StartRun(projectId, "revert");
        // Under the project's lock, so that two reverts asked for at once are decided one after the other.
        await using var transaction = await BeginLockedAsync(projectId, preview: false, ct);
        if (await ArchivedAsync(projectId, now, ct) is { } archived)
        {
            return archived;
        }
        var original = await db.FindJobAsync(jobId, ct) ?? throw new KeyNotFoundException($"Job {jobId} does not exist.");
        var latestRevert = original.RevertedBy is { } by
            // A revert is written as a row (WriteAsync): read from the table.
            ? await db.StoredJobs.AsNoTracking().Where(j => j.Id == by).Select(j => (JobStatus?)j.Status).FirstOrDefaultAsync(ct)
            : null;
        var mappingActive = await db.Jobs.AsNoTracking()
            .AnyAsync(j => j.MappingId == original.MappingId && JobStatuses.Active.Contains(j.Status), ct);
        // A later real job of the kind that started on the device, unless a revert of it completed.
        var laterNotReverted = await db.Jobs.AsNoTracking()
            .Where(j => j.MappingId == original.MappingId && j.Kind == original.Kind && !j.DryRun && j.RevertOf == null
                && j.StartedAt != null && j.CreatedAt > original.CreatedAt)
            .AnyAsync(j => !db.StoredJobs.Any(r => r.Id == j.RevertedBy && (r.Status == JobStatus.Finished || r.Status == JobStatus.Exceptions)), ct);
        if (RevertRules.Check(new RevertFacts(
                original.Kind, original.Status, original.DryRun, original.RevertOf is not null, latestRevert, mappingActive, laterNotReverted))
            is { } refused)
        {
            return new RunStartOutcome(null, 0, 0, false, now, [], refused);
        }
        var revert = new PlannedJob(new SequentialIds(now).Next(), original.MappingId, original.Kind, JobStatus.WaitingToStart, false, null);
        var plan = new RunPlan([revert], [], null, false, now);
        var outcome = await WriteAsync(projectId, plan, [original.Kind], preview: false, rerunOf: null, dryRun: false, now, ct, revertOf: jobId);
        await store.ExecuteAsync("UPDATE jobs SET reverted_by = @revert, updated_at = @now WHERE id = @id", ct,
            ("revert", revert.Id), ("now", store.Dialect.Time(now)), ("id", jobId));
        await signals.CommitAndSignalAsync(transaction!, store, Startable(plan), ct);
        observed.Started(outcome);
        return outcome;
    }

    /// <summary>The mappings that got a job they may start now, whose agents the commit wakes.</summary>
    private static IEnumerable<Guid> Startable(RunPlan plan) =>
        plan.Scheduled ? [] : plan.Jobs.Where(j => j.Status == JobStatus.WaitingToStart).Select(j => j.MappingId);

    /// <summary>
    /// Asked again under the project's lock (the commands ask first, for their 409): an archive made while this request
    /// waited for the lock wins, and nothing starts in the archived project.
    /// </summary>
    private async Task<RunStartOutcome?> ArchivedAsync(Guid projectId, DateTimeOffset now, CancellationToken ct) =>
        await ArchivedProjects.CheckAsync(db, projectId, ArchivedAction.Run, ct) is { } refusal
            ? new RunStartOutcome(null, 0, 0, false, now, [], new RunRefusal(refusal.Rule, refusal.Message))
            : null;

    /// <summary>
    /// Starts the transaction that reads a project's facts and writes its run, taking the project's lock first
    /// (<see cref="ProjectLock"/>): two runs started at once on one project, from two requests or two replicas, are
    /// planned one after the other, so the second sees the first's jobs and refuses duplicates. A preview writes
    /// nothing and takes no lock.
    /// </summary>
    private async Task<IDbContextTransaction?> BeginLockedAsync(Guid projectId, bool preview, CancellationToken ct) =>
        preview ? null : await ProjectLock.TakeAsync(db, store, projectId, ct);

    private async Task<RunStartOutcome> WriteAsync(
        Guid projectId, RunPlan plan, IReadOnlyList<JobKind> kinds, bool preview, Guid? rerunOf, bool dryRun, DateTimeOffset now, CancellationToken ct,
        Guid? revertOf = null)
    {
        var mappingCount = plan.MappingCount;
        var prepare = System.Diagnostics.Stopwatch.StartNew();
        if (plan.RunRefused is not null || plan.Jobs.Count == 0 || preview)
        {
            return new RunStartOutcome(null, plan.Jobs.Count, mappingCount, plan.Scheduled, plan.StartAt, plan.Refusals, plan.RunRefused);
        }
        var run = new Run
        {
            Id = Guid.CreateVersion7(now),
            ProjectId = projectId,
            RequestedBy = audit.Actor,
            CreatedAt = now,
            StartAt = plan.StartAt,
            ReleasedAt = plan.Scheduled ? null : now,
            Kinds = string.Join(',', kinds.Distinct().Order()),
            MappingCount = mappingCount,
            JobCount = plan.Jobs.Count,
            RerunOf = rerunOf,
            DryRun = dryRun,
        };
        var jobs = plan.Jobs;
        // A revert is one job written as a row (it names the job it reverts, which a run item cannot say).
        var (items, rows, shownFirst) = Itemised(run, plan, itemise: revertOf is null);
        // Mappings of run items show it through mapping_states until the run engine writes their rows (SummaryCatchUp).
        run.MappingsShownAt = items.Count == 0 || dryRun ? now : null;

        // Inside the caller's transaction (see BeginLockedAsync).
        var transaction = db.Database.CurrentTransaction!;
        db.Runs.Add(run);
        if (revertOf is { } reverted)
        {
            audit.Record("job.revert", $"job:{reverted}", $"reverted by job {jobs[0].Id} in run {run.Id}");
        }
        else
        {
            audit.Record(rerunOf is null ? "run.start" : "run.rerun", $"run:{run.Id}",
                $"{jobs.Count} job(s) on {mappingCount} mapping(s): {run.Kinds}{(dryRun ? " (dry run)" : "")}" +
                $"{(plan.Scheduled ? $", scheduled for {plan.StartAt:u}" : "")}; {plan.Refusals.Count} refused");
        }
        await db.SaveChangesAsync(ct);
        var prepared = prepare.Elapsed;
        var step = System.Diagnostics.Stopwatch.StartNew();
        await BulkWriter.InsertRunItemsAsync(db.Database.GetDbConnection(), transaction.GetDbTransaction(), store.Dialect, items, ct);
        itemsWritten = items.Count;
        await BulkWriter.InsertJobsAsync(db.Database.GetDbConnection(), transaction.GetDbTransaction(), store.Dialect,
            new BulkWriter.NewJobs(run.Id, projectId, now, dryRun, revertOf), rows, ct);
        var insert = step.Elapsed;
        if (dryRun || revertOf is not null)
        {
            // A preview or a revert is not a stage of the mappings: their status stays what their last migration made it
            // (their reports show the run).
            db.ChangeTracker.Clear();
            return new RunStartOutcome(run, jobs.Count, mappingCount, plan.Scheduled, plan.StartAt, plan.Refusals, null);
        }
        // Only the mappings whose jobs are rows: an item's mapping shows the item through mapping_states until the run
        // engine writes its row after the commit (SummaryCatchUp) or the item becomes rows.
        await summaries.ShowNewRunAsync(run.Id, shownFirst, now, ct);
        logger.LogInformation(
            "Run {RunId} written: run and jobs prepared {PrepareMs:F0} ms, insert {InsertMs:F0} ms ({ItemCount} run items, {JobRowCount} job rows), mapping summaries {SummariesMs:F0} ms",
            run.Id, prepared.TotalMilliseconds, insert.TotalMilliseconds, items.Count, rows.Count, (step.Elapsed - insert).TotalMilliseconds);
        db.ChangeTracker.Clear();
        return new RunStartOutcome(run, jobs.Count, mappingCount, plan.Scheduled, plan.StartAt, plan.Refusals, null);
    }

    /// <summary>
    /// A run item for each mapping whose planned jobs one derives exactly (<see cref="RunItems.FromPlanned(IReadOnlyList{PlannedJob}, Guid, Guid, bool, bool, DateTimeOffset)"/>), and the
    /// jobs of the other mappings as rows, with the job each of those mappings shows first (a run item's mapping shows
    /// its item's through the mapping_states view: nothing is written to it now).
    /// </summary>
    private static (List<RunItem> Items, IReadOnlyList<PlannedJob> Rows, List<MappingSummaries.RunStart> ShownFirst) Itemised(
        Run run, RunPlan plan, bool itemise)
    {
        var jobs = plan.Jobs;
        var asked = itemise;
        var items = new List<RunItem>(itemise ? jobs.Count / JobKinds.All.Count : 0);
        var rows = itemise ? new List<PlannedJob>() : [.. jobs];
        var shownFirst = new List<MappingSummaries.RunStart>();
        // The planner gives each mapping's jobs one after the other (a re-run, one plan per mapping group): one pass over
        // those stretches, without grouping 250,000 jobs. A mapping met twice would make two items of one id: then rows.
        var seen = new HashSet<Guid>();
        for (int start = 0, end; start < jobs.Count; start = end)
        {
            var mapping = jobs[start].MappingId;
            var shown = jobs[start];
            for (end = start + 1; end < jobs.Count && jobs[end].MappingId == mapping; end++)
            {
                // The plan already knows which job each mapping shows (by the same rule as the store's refresh).
                if (MappingSummaryRules.Compare((jobs[end].Status, jobs[end].Kind), (shown.Status, shown.Kind)) < 0)
                {
                    shown = jobs[end];
                }
            }
            itemise &= seen.Add(mapping);
            if (!itemise)
            {
                continue;
            }
            if (RunItems.FromPlanned(jobs, start, end - start, run.Id, run.ProjectId, plan.Scheduled, run.DryRun, run.CreatedAt) is { } item)
            {
                // Its mapping's summary is derived from the item (mapping_states) until its row is written.
                items.Add(item);
            }
            else
            {
                shownFirst.Add(new MappingSummaries.RunStart(mapping, shown.Id, shown.Kind, shown.Status));
                for (var i = start; i < end; i++)
                {
                    rows.Add(jobs[i]);
                }
            }
        }
        if (asked && !itemise)
        {
            // A mapping came twice (no planner does this): every job as a row, each mapping shown once, as before run items.
            var shown = Comparer<PlannedJob>.Create((a, b) => MappingSummaryRules.Compare((a.Status, a.Kind), (b.Status, b.Kind)));
            return ([], jobs, jobs.GroupBy(j => j.MappingId).Select(g => g.Min(shown)!)
                .Select(j => new MappingSummaries.RunStart(j.MappingId, j.Id, j.Kind, j.Status)).ToList());
        }
        return (items, rows, shownFirst);
    }

    private async Task<ProjectFacts> ProjectFactsAsync(Guid projectId, CancellationToken ct)
    {
        var project = await db.Projects.AsNoTracking().FirstAsync(p => p.Id == projectId, ct);
        var source = await db.Connections.AsNoTracking().FirstAsync(c => c.Id == project.SourceConnectionId, ct);
        var destination = await db.Connections.AsNoTracking().FirstAsync(c => c.Id == project.DestinationConnectionId, ct);
        return new ProjectFacts(source.EntraEnabled, destination.Kind, destination.RejoinMethod, destination.NeedsDestinationPreparation);
    }

    /// <summary>
    /// The mappings whose facts a run needs: all matching the filter, or for explicit ids the whole project (tens of
    /// thousands of ids make no query: a parameter each would pass the database's limit).
    /// </summary>
    private async Task<IQueryable<Mapping>> SelectedAsync(Guid projectId, RunSelection selection, CancellationToken ct)
    {
        var project = (await db.MappingsOfAsync(projectId, ct)).AsNoTracking();
        return selection.MappingIds is null ? MappingQuery.Apply(db, project, selection.Filter ?? new MappingFilter()) : project;
    }

    /// <summary>
    /// The run rules' facts for the given mappings (of one project), in one query whatever their number: each mapping
    /// with its active jobs' kinds (a row per active job, found through the (mapping, status) index as one range of
    /// statuses, <see cref="JobStatuses.FirstActive"/>..<see cref="JobStatuses.LastActive"/>; jobs carry no project
    /// index, see the store). One pass instead of one for the mappings and one for their jobs halves a
    /// 50,000-mapping confirmation. The rows are read as they come and each mapping's kinds kept as bits: no list of
    /// rows and no set per mapping (the few combinations of kinds are shared, <see cref="ActiveKindSets"/>).
    /// The jobs of run items are all waiting: their kinds are read from the project's items, not derived through
    /// all_jobs (which SQLite would derive whole for the join). The items are read <em>before</em> the rows: a writer
    /// turns an item into rows in one transaction, so under READ COMMITTED (a snapshot per statement) a job is seen at
    /// least once, as an item or as a row; rows first could miss a job made a row (and leased) between the two reads.
    /// </summary>
    private async Task<Dictionary<Guid, MappingFacts>> MappingFactsAsync(Guid projectId, IQueryable<Mapping> selected, CancellationToken ct)
    {
        var items = await db.RunItems.AsNoTracking().Where(i => i.ProjectId == projectId).Select(i => new { i.MappingId, i.Kinds }).ToListAsync(ct);
        var rows = (
                from m in selected
                join j in db.StoredJobs.Where(j => j.Status >= JobStatuses.FirstActive && j.Status <= JobStatuses.LastActive) on m.Id equals j.MappingId into active
                from j in active.DefaultIfEmpty()
                select new
                {
                    m.Id,
                    m.SourceDevice,
                    HasUsers = m.PrimaryUser != null && m.DestinationUser != null,
                    Rejoined = m.RejoinedAt != null,
                    ActiveKind = j == null ? (JobKind?)null : j.Kind,
                })
            .AsAsyncEnumerable();
        var found = new Dictionary<Guid, FoundMapping>();
        await foreach (var m in rows.WithCancellation(ct))
        {
            ref var mapping = ref CollectionsMarshal.GetValueRefOrAddDefault(found, m.Id, out var seen);
            if (!seen)
            {
                mapping = new FoundMapping(m.SourceDevice, m.HasUsers, m.Rejoined, 0);
            }
            if (m.ActiveKind is { } kind)
            {
                mapping.ActiveKinds |= ActiveKindSets.Bit(kind);
            }
        }
        foreach (var item in items)
        {
            if (found.TryGetValue(item.MappingId, out var mapping))
            {
                found[item.MappingId] = mapping with { ActiveKinds = mapping.ActiveKinds | (uint)item.Kinds };
            }
        }
        var facts = new Dictionary<Guid, MappingFacts>(found.Count);
        foreach (var (id, m) in found)
        {
            facts[id] = new MappingFacts(id, m.SourceDevice, m.HasUsers, m.Rejoined, ActiveKindSets.Of(m.ActiveKinds));
        }
        return facts;
    }

    /// <summary>A mapping as its rows are read: its active jobs' kinds as bits (<see cref="ActiveKindSets.Bit"/>).</summary>
    private record struct FoundMapping(string SourceDevice, bool HasUsers, bool Rejoined, uint ActiveKinds);

    /// <summary>
    /// The sets of active kinds, one shared (immutable) set per combination: at most 2^5 of them, instead of a set per
    /// mapping. A kind outside 0..31 (none is defined) has no bit and is left out: the run rules ask a mapping's set
    /// only about kinds they checked are defined, so an unknown kind in it could change no answer.
    /// </summary>
    private static class ActiveKindSets
    {
        private static readonly ConcurrentDictionary<uint, IReadOnlySet<JobKind>> Sets = new();

        public static uint Bit(JobKind kind) => (uint)kind < 32 ? 1u << (int)kind : 0;

        public static IReadOnlySet<JobKind> Of(uint bits) =>
            Sets.GetOrAdd(bits, b => Enumerable.Range(0, 32).Where(i => (b & (1u << i)) != 0).Select(i => (JobKind)i).ToFrozenSet());
    }
}
