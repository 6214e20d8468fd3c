using Rehome.Core.Runs;

namespace Rehome.Core.Tests.Runs;

public class MappingSummaryRulesTests
{
    [Fact]
    public void A_mapping_shows_a_running_job_before_a_waiting_one_and_a_waiting_one_before_any_outcome()
    {
        Assert.True(MappingSummaryRules.Compare((JobStatus.InProgress, JobKind.RegisterAutopilot), (JobStatus.WaitingToStart, JobKind.RejoinDomain)) < 0);
        Assert.True(MappingSummaryRules.Compare((JobStatus.Scheduled, JobKind.RegisterAutopilot), (JobStatus.Failed, JobKind.RejoinDomain)) < 0);
    }

    [Fact]
    public void Among_outcomes_a_mapping_shows_the_worst_first()
    {
        JobStatus[] worstFirst = [JobStatus.Failed, JobStatus.Stopped, JobStatus.Exceptions, JobStatus.Finished];

        Assert.Equal(worstFirst, JobStatuses.Terminal.OrderBy(MappingSummaryRules.Rank));
    }

    [Fact]
    public void Waiting_statuses_are_equals_and_the_first_kind_decides_between_them()
    {
        var waiting = new[] { JobStatus.WaitingToStart, JobStatus.WaitingForDestination, JobStatus.WaitingForPrerequisite, JobStatus.Scheduled };

        Assert.Single(waiting.Select(MappingSummaryRules.Rank).Distinct());
        Assert.True(MappingSummaryRules.Compare((JobStatus.Scheduled, JobKind.RejoinDomain), (JobStatus.WaitingToStart, JobKind.MigratePermissions)) < 0);
    }

    [Fact]
    public void Every_status_has_a_rank()
    {
        Assert.All(Enum.GetValues<JobStatus>(), s => Assert.InRange(MappingSummaryRules.Rank(s), 0, 5));
    }
}
