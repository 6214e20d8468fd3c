using Rehome.Core.Runs;

namespace Rehome.Core.Tests.Runs;

public class RevertRulesTests
{
    private static RevertFacts Permissions(JobStatus status) =>
        new(JobKind.MigratePermissions, status, DryRun: false, IsRevert: false, LatestRevertStatus: null, JobActiveOnMapping: false, LaterJobNotReverted: false);

    [Theory]
    [InlineData(JobStatus.Finished)]
    [InlineData(JobStatus.Exceptions)]
    [InlineData(JobStatus.Stopped)]
    [InlineData(JobStatus.Failed)]
    public void A_permissions_job_that_ended_may_be_reverted_even_stopped_or_failed_since_it_may_have_changed_acls(JobStatus status)
    {
        Assert.Null(RevertRules.Check(Permissions(status)));
    }

    [Fact]
    public void A_job_still_waiting_or_running_may_not_be_reverted()
    {
        Assert.Equal(RevertRules.JobNotFinished, RevertRules.Check(Permissions(JobStatus.InProgress))?.Rule);
        Assert.Equal(RevertRules.JobNotFinished, RevertRules.Check(Permissions(JobStatus.WaitingToStart))?.Rule);
    }

    [Fact]
    public void A_job_may_not_be_reverted_while_a_later_job_of_its_kind_on_the_mapping_is_not_reverted()
    {
        var refusal = RevertRules.Check(Permissions(JobStatus.Finished) with { LaterJobNotReverted = true });

        Assert.Equal(RevertRules.LaterJobNotReverted, refusal?.Rule);
        Assert.Contains("later", refusal!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_job_may_not_be_reverted_while_any_job_of_the_mapping_waits_or_runs()
    {
        Assert.Equal(RunRules.JobAlreadyActive, RevertRules.Check(Permissions(JobStatus.Finished) with { JobActiveOnMapping = true })?.Rule);
    }
}
