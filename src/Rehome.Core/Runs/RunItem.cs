namespace Rehome.Core.Runs;

/// <summary>
/// One mapping of a run whose jobs are not rows yet: a run of 50,000 mappings × 5 kinds writes 50,000 of these
/// instead of 250,000 jobs. The jobs it stands for are derived (<see cref="RunItems.Jobs"/>, and the store's
/// <c>all_jobs</c> view by the same rule) with the ids they keep when the first write to any of them turns the
/// item into job rows.
/// </summary>
public sealed class RunItem
{
    /// <summary>Its last byte is zero; a job's id is this with the kind in that byte (<see cref="RunItems.JobId"/>).</summary>
    public Guid Id { get; set; }

    public Guid RunId { get; set; }

    public Guid ProjectId { get; set; }

    public Guid MappingId { get; set; }

    /// <summary>The kinds planned for the mapping, one bit each (<see cref="RunItems.Bit"/>).</summary>
    public int Kinds { get; set; }

    /// <summary>The run waits for its start time: every job is <see cref="JobStatus.Scheduled"/> until it is released.</summary>
    public bool Scheduled { get; set; }

    public bool DryRun { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>The rule that derives a run item's jobs, the same one the store's <c>all_jobs</c> view applies.</summary>
public static class RunItems
{
    public static int Bit(JobKind kind) => 1 << (int)kind;

    /// <summary>The id of the item's job of this kind: the item's id with the kind in its last byte.</summary>
    public static Guid JobId(Guid itemId, JobKind kind)
    {
        Span<byte> bytes = stackalloc byte[16];
        itemId.TryWriteBytes(bytes, bigEndian: true, out _);
        bytes[15] = (byte)kind;
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>The item a job id belongs to, if the job came from one (or was planned as if it might have).</summary>
    public static Guid ItemOf(Guid jobId) => JobId(jobId, 0);

    /// <summary>
    /// The status a derived job has: scheduled until its run is released, then as <see cref="JobStateMachine.AtStart"/>
    /// says (a rejoin in the item is the prerequisite of the kinds that need one; items never need destination
    /// preparation, see <see cref="FromPlanned(IReadOnlyList{PlannedJob}, Guid, Guid, bool, bool, DateTimeOffset)"/>).
    /// </summary>
    public static JobStatus Status(bool scheduled, int kinds, JobKind kind) =>
        scheduled ? JobStatus.Scheduled : JobStateMachine.AtStart(Prerequisite(kinds, kind), needsDestinationPreparation: false);

    private static bool Prerequisite(int kinds, JobKind kind) => kind.NeedsRejoin() && (kinds & Bit(JobKind.RejoinDomain)) != 0;

    /// <summary>
    /// The job a mapping shows while its newest run is this item (<see cref="MappingSummaryRules"/>): the store's
    /// <c>mapping_states</c> view is generated from this, for every kinds and scheduled flag.
    /// </summary>
    public static (JobKind Kind, JobStatus Status) Shown(int kinds, bool scheduled)
    {
        var shown = JobKinds.All.Where(k => (kinds & Bit(k)) != 0)
            .Select(k => (Status: Status(scheduled, kinds, k), Kind: k))
            .Aggregate((a, b) => MappingSummaryRules.Compare(a, b) <= 0 ? a : b);
        return (shown.Kind, shown.Status);
    }

    /// <summary>Every kinds value an item can hold: one bit or more of <see cref="JobKinds.All"/>.</summary>
    public static IEnumerable<int> AllKinds()
    {
        var every = JobKinds.All.Aggregate(0, (bits, k) => bits | Bit(k));
        for (var kinds = 1; kinds <= every; kinds++)
        {
            if ((kinds & ~every) == 0)
            {
                yield return kinds;
            }
        }
    }

    /// <summary>The jobs the item stands for, in kind order, as a run's planner made them.</summary>
    public static IEnumerable<PlannedJob> Jobs(RunItem item) =>
        JobKinds.All.Where(k => (item.Kinds & Bit(k)) != 0).Select(k => new PlannedJob(
            JobId(item.Id, k), item.MappingId, k, Status(item.Scheduled, item.Kinds, k), false,
            Prerequisite(item.Kinds, k) ? JobId(item.Id, JobKind.RejoinDomain) : null));

    /// <summary>
    /// The item that stands for one mapping's planned jobs, or null when derivation would not give exactly those jobs
    /// (a rejoin that needs destination preparation, which the server's preparation tick must find as a row; ids not
    /// planned by <see cref="SequentialIds.NextItem"/>): those are written as job rows.
    /// </summary>
    public static RunItem? FromPlanned(IReadOnlyList<PlannedJob> jobsOfMapping, Guid runId, Guid projectId, bool scheduled, bool dryRun, DateTimeOffset createdAt) =>
        FromPlanned(jobsOfMapping, 0, jobsOfMapping.Count, runId, projectId, scheduled, dryRun, createdAt);

    /// <summary>
    /// As above for <paramref name="count"/> jobs of <paramref name="jobs"/> from <paramref name="start"/>, in kind order
    /// (as the planner makes them), without copying them: a run checks 250,000 jobs this way.
    /// </summary>
    public static RunItem? FromPlanned(
        IReadOnlyList<PlannedJob> jobs, int start, int count, Guid runId, Guid projectId, bool scheduled, bool dryRun, DateTimeOffset createdAt)
    {
        if (count == 0)
        {
            return null;
        }
        var first = jobs[start];
        var kinds = 0;
        for (var i = start; i < start + count; i++)
        {
            var bit = Bit(jobs[i].Kind);
            // One job a kind, in kind order: each bit above every one before it.
            if (bit <= kinds)
            {
                return null;
            }
            kinds |= bit;
        }
        var itemId = ItemOf(first.Id);
        var rejoin = JobId(itemId, JobKind.RejoinDomain);
        for (var i = start; i < start + count; i++)
        {
            var job = jobs[i];
            var prerequisite = Prerequisite(kinds, job.Kind) ? rejoin : (Guid?)null;
            if (job.MappingId != first.MappingId || job.Id != JobId(itemId, job.Kind) || job.NeedsDestinationPreparation
                || job.Status != Status(scheduled, kinds, job.Kind) || job.PrerequisiteJobId != prerequisite)
            {
                return null;
            }
        }
        return new RunItem
        {
            Id = itemId,
            RunId = runId,
            ProjectId = projectId,
            MappingId = first.MappingId,
            Kinds = kinds,
            Scheduled = scheduled,
            DryRun = dryRun,
            CreatedAt = createdAt,
        };
    }
}
