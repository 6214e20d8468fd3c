using Rehome.Core.Runs;

namespace Rehome.Core.Tests.Runs;

public class JobOutcomeRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly SilenceLimits Limits = new(MaxAttempts: 5, DeviceOfflineLimit: TimeSpan.FromHours(72));

    [Fact]
    public void A_lapsed_lease_returns_the_job_to_its_queue_while_attempts_remain_and_the_device_was_seen_lately()
    {
        var outcome = JobOutcomeRules.AfterLapsedLease(new LapsedLease(false, 4, Now.AddMinutes(-2)), Limits, Now);

        Assert.Equal(JobStatus.WaitingToStart, outcome.Status);
        Assert.Equal(JobErrorCodes.LeaseLapsed, outcome.Code);
        Assert.False(outcome.IsOver);
    }

    [Fact]
    public void A_lapsed_lease_after_a_stop_request_stops_the_job_whatever_else_holds()
    {
        var outcome = JobOutcomeRules.AfterLapsedLease(new LapsedLease(true, 99, Now.AddDays(-30)), Limits, Now);

        Assert.Equal(JobStatus.Stopped, outcome.Status);
        Assert.Equal(JobErrorCodes.StoppedByAdministrator, outcome.Code);
        Assert.True(outcome.IsOver);
    }

    [Fact]
    public void A_lapsed_lease_on_the_last_attempt_fails_the_job_saying_how_often_the_agent_stopped()
    {
        var outcome = JobOutcomeRules.AfterLapsedLease(new LapsedLease(false, 5, Now.AddMinutes(-2)), Limits, Now);

        Assert.Equal(JobStatus.Failed, outcome.Status);
        Assert.Equal(JobErrorCodes.LeaseLapsed, outcome.Code);
        Assert.Contains("5 time(s)", outcome.Message);
    }

    [Fact]
    public void A_lapsed_lease_of_a_device_silent_longer_than_the_limit_fails_with_device_offline_and_says_how_long_and_what_to_do()
    {
        var outcome = JobOutcomeRules.AfterLapsedLease(new LapsedLease(false, 1, Now.AddHours(-75)), Limits, Now);

        Assert.Equal(JobStatus.Failed, outcome.Status);
        Assert.Equal(JobErrorCodes.DeviceOffline, outcome.Code);
        Assert.Contains("3 days 3 hours", outcome.Message);
        Assert.Contains("allows 3 days", outcome.Message);
        Assert.Contains("re-run", outcome.Message);
    }

    [Fact]
    public void A_device_silent_exactly_as_long_as_the_limit_is_not_offline_yet()
    {
        Assert.Null(JobOutcomeRules.DeviceOffline(Now.AddHours(-72), TimeSpan.FromHours(72), Now));
        Assert.NotNull(JobOutcomeRules.DeviceOffline(Now.AddHours(-72).AddSeconds(-1), TimeSpan.FromHours(72), Now));
    }

    [Fact]
    public void A_device_never_seen_or_a_policy_without_a_limit_never_makes_a_job_offline()
    {
        Assert.Null(JobOutcomeRules.DeviceOffline(null, TimeSpan.FromHours(1), Now));
        Assert.Null(JobOutcomeRules.DeviceOffline(Now.AddYears(-1), null, Now));
    }

    [Theory]
    [InlineData(40, "40 minutes")]
    [InlineData(60, "1 hour")]
    [InlineData(61, "1 hour 1 minute")]
    [InlineData(24 * 60, "1 day")]
    [InlineData(50 * 60, "2 days 2 hours")]
    public void Durations_read_as_people_say_them(int minutes, string expected)
    {
        Assert.Equal(expected, JobOutcomeRules.Describe(TimeSpan.FromMinutes(minutes)));
    }

    [Fact]
    public void Exactly_the_statuses_a_job_can_end_with_badly_can_be_rerun()
    {
        Assert.Equal([JobStatus.Exceptions, JobStatus.Failed, JobStatus.Stopped], JobStatuses.Rerunnable.Order());
        Assert.DoesNotContain(JobStatus.Finished, JobStatuses.Rerunnable);
        Assert.All(JobStatuses.Rerunnable, s => Assert.Contains(s, JobStatuses.Terminal));
    }

    [Fact]
    public void The_active_statuses_are_exactly_the_range_queries_ask_for()
    {
        // Queries read active jobs as FirstActive <= status <= LastActive: a status added inside the range, or an
        // active one outside it, would be counted wrongly.
        var inRange = Enum.GetValues<JobStatus>().Where(s => s >= JobStatuses.FirstActive && s <= JobStatuses.LastActive);
        Assert.Equal(JobStatuses.Active.Order(), inRange.Order());
        Assert.All(Enum.GetValues<JobStatus>(), s => Assert.Equal(JobStatuses.Active.Contains(s), s.IsActive()));
    }

    [Fact]
    public void Time_the_servers_were_away_is_not_counted_as_the_devices_silence()
    {
        // Servers stopped from Friday evening to Tuesday morning: the device was last seen 4 days ago, but the engine
        // has watched for 10 minutes only.
        var seen = JobOutcomeRules.LastSignOfLife(Now.AddDays(-4), watchingSince: Now.AddMinutes(-10));

        Assert.Equal(Now.AddMinutes(-10), seen);
        Assert.Null(JobOutcomeRules.DeviceOffline(seen, TimeSpan.FromHours(72), Now));
        Assert.Equal(JobStatus.WaitingToStart,
            JobOutcomeRules.AfterLapsedLease(new LapsedLease(false, 1, seen), Limits, Now).Status);
    }

    [Fact]
    public void Once_the_engine_has_watched_longer_than_the_limit_a_silent_device_is_offline()
    {
        var seen = JobOutcomeRules.LastSignOfLife(Now.AddDays(-4), watchingSince: Now.AddDays(-3.5));

        Assert.Equal(Now.AddDays(-3.5), seen);
        Assert.Equal(JobErrorCodes.DeviceOffline, JobOutcomeRules.DeviceOffline(seen, TimeSpan.FromHours(72), Now)?.Code);
    }

    [Fact]
    public void A_device_seen_after_the_engine_began_watching_keeps_its_own_time_and_one_never_seen_stays_unseen()
    {
        Assert.Equal(Now.AddMinutes(-1), JobOutcomeRules.LastSignOfLife(Now.AddMinutes(-1), Now.AddHours(-1)));
        Assert.Null(JobOutcomeRules.LastSignOfLife(null, Now.AddHours(-1)));
        Assert.Equal(Now.AddDays(-9), JobOutcomeRules.LastSignOfLife(Now.AddDays(-9), null));
    }
}
