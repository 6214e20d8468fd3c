namespace Rehome.Core.Runs;

/// <summary>
/// Which of a run's jobs a mapping shows (its stage and status in the list): a running job first, then a
/// waiting one, then the worst outcome (Failed, Stopped, Exceptions, Finished); among equals the first kind.
/// The store's summary SQL is generated from <see cref="Rank"/>, so the two cannot drift.
/// </summary>
public static class MappingSummaryRules
{
    /// <summary>The status's place in the precedence: lower shows first.</summary>
    public static int Rank(JobStatus status) => status switch
    {
        JobStatus.InProgress => 0,
        JobStatus.WaitingToStart or JobStatus.WaitingForDestination or JobStatus.WaitingForPrerequisite or JobStatus.Scheduled => 1,
        JobStatus.Failed => 2,
        JobStatus.Stopped => 3,
        JobStatus.Exceptions => 4,
        JobStatus.Finished => 5,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Not a job status."),
    };

    /// <summary>Negative when the mapping shows <paramref name="a"/> before <paramref name="b"/>.</summary>
    public static int Compare((JobStatus Status, JobKind Kind) a, (JobStatus Status, JobKind Kind) b)
    {
        var byStatus = Rank(a.Status).CompareTo(Rank(b.Status));
        return byStatus != 0 ? byStatus : a.Kind.CompareTo(b.Kind);
    }
}
