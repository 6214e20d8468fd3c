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
    public void A_waiting_job_cannot_jump_to_an_outcome_without_running()
    {
        Assert.False(JobStateMachine.CanMove(JobStatus.WaitingToStart, JobStatus.Finished));
        Assert.False(JobStateMachine.CanMove(JobStatus.WaitingForPrerequisite, JobStatus.InProgress));
        Assert.True(JobStateMachine.CanMove(JobStatus.WaitingToStart, JobStatus.InProgress));
        Assert.True(JobStateMachine.CanMove(JobStatus.InProgress, JobStatus.Finished));
    }

    [Fact]
    public void Sources_of_a_status_are_exactly_the_statuses_allowed_to_reach_it()
    {
        foreach (var to in Enum.GetValues<JobStatus>())
        {
            var expected = Enum.GetValues<JobStatus>().Where(from => JobStateMachine.CanMove(from, to));
            Assert.Equal(expected.Order(), JobStateMachine.SourcesOf(to).Order());
        }
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
