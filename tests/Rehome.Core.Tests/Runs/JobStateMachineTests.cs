using Rehome.Core.Runs;

namespace Rehome.Core.Tests.Runs;

public class JobStateMachineTests
{
    [Fact]
    public void Terminal_statuses_never_move()
    {
        foreach (var from in JobStatuses.Terminal)
        {
            Assert.All(Enum.GetValues<JobStatus>(), to => Assert.False(JobStateMachine.CanMove(from, to)));
        }
    }

    [Fact]
    public void The_active_range_holds_exactly_the_active_statuses()
    {
        var (first, last) = JobStatuses.ActiveRange;
        Assert.Equal(
            JobStatuses.Active.Order(),
            Enum.GetValues<JobStatus>().Where(s => s >= first && s <= last).Order());
        Assert.All(Enum.GetValues<JobStatus>(), s => Assert.Equal(s.IsActive(), s >= first && s <= last));
    }

    [Fact]
    public void A_waiting_job_cannot_jump_to_an_outcome_without_running()
    {
        Assert.False(JobStateMachine.CanMove(JobStatus.WaitingToStart, JobStatus.Finished));
        Assert.False(JobStateMachine.CanMove(JobStatus.WaitingForPrerequisite, JobStatus.InProgress));
        Assert.True(JobStateMachine.CanMove(JobStatus.WaitingToStart, JobStatus.InProgress));
        Assert.True(JobStateMachine.CanMove(JobStatus.InProgress, JobStatus.Finished));
    }

    /// <summary>
    /// The rules written out again, edge by edge, independently of the table: what a job may become from each status.
    /// </summary>
    private static readonly (JobStatus From, JobStatus To)[] Rules =
    [
        // A scheduled run's jobs are released to what they would have been if started then, or end before they start.
        (JobStatus.Scheduled, JobStatus.WaitingToStart),
        (JobStatus.Scheduled, JobStatus.WaitingForDestination),
        (JobStatus.Scheduled, JobStatus.WaitingForPrerequisite),
        (JobStatus.Scheduled, JobStatus.Failed),
        (JobStatus.Scheduled, JobStatus.Stopped),
        (JobStatus.WaitingForDestination, JobStatus.WaitingToStart),
        (JobStatus.WaitingForDestination, JobStatus.Failed),
        (JobStatus.WaitingForDestination, JobStatus.Stopped),
        (JobStatus.WaitingForPrerequisite, JobStatus.WaitingToStart),
        (JobStatus.WaitingForPrerequisite, JobStatus.WaitingForDestination),
        (JobStatus.WaitingForPrerequisite, JobStatus.Failed),
        (JobStatus.WaitingForPrerequisite, JobStatus.Stopped),
        (JobStatus.WaitingToStart, JobStatus.InProgress),
        (JobStatus.WaitingToStart, JobStatus.Failed),
        (JobStatus.WaitingToStart, JobStatus.Stopped),
        (JobStatus.InProgress, JobStatus.Finished),
        (JobStatus.InProgress, JobStatus.Exceptions),
        (JobStatus.InProgress, JobStatus.Failed),
        (JobStatus.InProgress, JobStatus.Stopped),
        // A lapsed lease puts the job back in its queue.
        (JobStatus.InProgress, JobStatus.WaitingToStart),
    ];

    [Fact]
    public void Every_pair_of_statuses_may_move_exactly_as_the_written_rules_say()
    {
        foreach (var from in Enum.GetValues<JobStatus>())
        {
            foreach (var to in Enum.GetValues<JobStatus>())
            {
                Assert.True(Rules.Contains((from, to)) == JobStateMachine.CanMove(from, to), $"{from} → {to}");
            }
        }
    }

    [Theory]
    [InlineData(JobStatus.WaitingToStart, new[] { JobStatus.Scheduled, JobStatus.WaitingForDestination, JobStatus.WaitingForPrerequisite, JobStatus.InProgress })]
    [InlineData(JobStatus.WaitingForDestination, new[] { JobStatus.Scheduled, JobStatus.WaitingForPrerequisite })]
    [InlineData(JobStatus.WaitingForPrerequisite, new[] { JobStatus.Scheduled })]
    [InlineData(JobStatus.Scheduled, new JobStatus[0])]
    [InlineData(JobStatus.InProgress, new[] { JobStatus.WaitingToStart })]
    [InlineData(JobStatus.Finished, new[] { JobStatus.InProgress })]
    [InlineData(JobStatus.Exceptions, new[] { JobStatus.InProgress })]
    [InlineData(JobStatus.Failed,
        new[] { JobStatus.Scheduled, JobStatus.WaitingForDestination, JobStatus.WaitingForPrerequisite, JobStatus.WaitingToStart, JobStatus.InProgress })]
    [InlineData(JobStatus.Stopped,
        new[] { JobStatus.Scheduled, JobStatus.WaitingForDestination, JobStatus.WaitingForPrerequisite, JobStatus.WaitingToStart, JobStatus.InProgress })]
    public void The_statuses_a_status_is_reached_from_are_the_ones_the_rules_name(JobStatus to, JobStatus[] expected)
    {
        Assert.Equal(expected.Order(), JobStateMachine.SourcesOf(to).Order());
        Assert.Equal(Rules.Where(r => r.To == to).Select(r => r.From).Order(), JobStateMachine.SourcesOf(to).Order());
    }

    [Theory]
    [InlineData(JobStatus.Scheduled, StopEffect.StopNow)]
    [InlineData(JobStatus.WaitingToStart, StopEffect.StopNow)]
    [InlineData(JobStatus.WaitingForDestination, StopEffect.StopNow)]
    [InlineData(JobStatus.WaitingForPrerequisite, StopEffect.StopNow)]
    [InlineData(JobStatus.InProgress, StopEffect.RequestFromAgent)]
    [InlineData(JobStatus.Finished, StopEffect.AlreadyOver)]
    [InlineData(JobStatus.Failed, StopEffect.AlreadyOver)]
    public void Stopping_works_in_every_status(JobStatus status, StopEffect expected)
    {
        Assert.Equal(expected, JobStateMachine.Stop(status));
        if (expected == StopEffect.StopNow)
        {
            Assert.True(JobStateMachine.CanMove(status, JobStatus.Stopped));
        }
    }

    [Theory]
    [InlineData(JobStatus.Finished, false, JobStatus.WaitingToStart)]
    [InlineData(JobStatus.Exceptions, false, JobStatus.WaitingToStart)]
    [InlineData(JobStatus.Finished, true, JobStatus.WaitingForDestination)]
    [InlineData(JobStatus.Failed, false, JobStatus.Failed)]
    [InlineData(JobStatus.Stopped, false, JobStatus.Failed)]
    [InlineData(JobStatus.InProgress, false, JobStatus.WaitingForPrerequisite)]
    public void A_prerequisite_outcome_releases_or_fails_the_waiting_job(JobStatus prerequisite, bool preparation, JobStatus expected) =>
        Assert.Equal(expected, JobStateMachine.AfterPrerequisite(prerequisite, preparation));
}
