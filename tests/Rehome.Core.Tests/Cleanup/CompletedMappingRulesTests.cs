using Rehome.Core.Cleanup;
using Rehome.Core.Runs;

namespace Rehome.Core.Tests.Cleanup;

public sealed class CompletedMappingRulesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    private static CompletedJobFact Job(JobKind kind, JobStatus status, int minute, bool dryRun = false, bool revert = false) =>
        new(kind, status, T0.AddMinutes(minute), dryRun, revert);

    [Fact]
    public void A_mapping_whose_every_kind_finished_is_complete()
    {
        Assert.Null(CompletedMappingRules.Check([Job(JobKind.RejoinDomain, JobStatus.Finished, 0), Job(JobKind.MigratePermissions, JobStatus.Finished, 1)]));
    }

    [Fact]
    public void A_mapping_never_run_is_kept_as_never_run()
    {
        Assert.Equal(KeptReason.NeverRun, CompletedMappingRules.Check([]));
    }

    [Fact]
    public void Previews_alone_do_not_complete_a_mapping()
    {
        Assert.Equal(KeptReason.NeverRun, CompletedMappingRules.Check([Job(JobKind.MigratePermissions, JobStatus.Finished, 0, dryRun: true)]));
    }

    [Fact]
    public void A_failed_preview_after_a_finished_job_does_not_spoil_it()
    {
        Assert.Null(CompletedMappingRules.Check([Job(JobKind.MigratePermissions, JobStatus.Finished, 0), Job(JobKind.MigratePermissions, JobStatus.Failed, 5, dryRun: true)]));
    }

    [Theory]
    [InlineData(JobStatus.WaitingToStart)]
    [InlineData(JobStatus.WaitingForDestination)]
    [InlineData(JobStatus.WaitingForPrerequisite)]
    [InlineData(JobStatus.Scheduled)]
    [InlineData(JobStatus.InProgress)]
    public void Any_job_waiting_or_running_keeps_the_mapping_as_active(JobStatus status)
    {
        Assert.Equal(KeptReason.Active, CompletedMappingRules.Check([Job(JobKind.RejoinDomain, JobStatus.Finished, 0), Job(JobKind.MigrateUserProfile, status, 1)]));
    }

    [Theory]
    [InlineData(JobStatus.Failed, KeptReason.Failed)]
    [InlineData(JobStatus.Exceptions, KeptReason.Exceptions)]
    [InlineData(JobStatus.Stopped, KeptReason.Stopped)]
    public void The_latest_job_of_a_kind_not_finished_keeps_the_mapping_with_its_status(JobStatus status, KeptReason reason)
    {
        Assert.Equal(reason, CompletedMappingRules.Check([Job(JobKind.RejoinDomain, JobStatus.Finished, 0), Job(JobKind.MigratePermissions, status, 1)]));
    }

    [Fact]
    public void A_failure_re_run_to_finished_completes_the_mapping()
    {
        Assert.Null(CompletedMappingRules.Check([Job(JobKind.RejoinDomain, JobStatus.Failed, 0), Job(JobKind.RejoinDomain, JobStatus.Finished, 10)]));
    }

    [Fact]
    public void A_finished_job_followed_by_a_failed_one_of_its_kind_is_kept()
    {
        Assert.Equal(KeptReason.Failed, CompletedMappingRules.Check([Job(JobKind.RejoinDomain, JobStatus.Finished, 0), Job(JobKind.RejoinDomain, JobStatus.Failed, 10)]));
    }

    [Fact]
    public void A_finished_revert_as_the_latest_job_of_its_kind_keeps_the_mapping_as_reverted()
    {
        Assert.Equal(KeptReason.Reverted, CompletedMappingRules.Check([
            Job(JobKind.RejoinDomain, JobStatus.Finished, 0), Job(JobKind.MigratePermissions, JobStatus.Finished, 1), Job(JobKind.MigratePermissions, JobStatus.Finished, 2, revert: true)]));
    }

    [Fact]
    public void Of_several_reasons_the_one_that_needs_looking_at_first_is_given()
    {
        Assert.Equal(KeptReason.Failed, CompletedMappingRules.Check([
            Job(JobKind.RejoinDomain, JobStatus.Stopped, 0), Job(JobKind.MigratePermissions, JobStatus.Failed, 1), Job(JobKind.MigrateUserProfile, JobStatus.Exceptions, 2)]));
    }
}
