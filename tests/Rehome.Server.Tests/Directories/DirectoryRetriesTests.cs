using Rehome.Server.Directories;

namespace Rehome.Server.Tests.Directories;

/// <summary>The back-off rule itself; that a job's window lives in the store is shown in Replicas/ReplicaTests.</summary>
public sealed class DirectoryRetriesTests
{
    private DateTimeOffset now = new(2026, 11, 28, 9, 0, 0, TimeSpan.Zero);
    private RetryState? state;

    private RetryDecision Failed(TimeSpan window, TimeSpan? retryAfter = null)
    {
        (state, var decision) = DirectoryRetries.AfterFailure(state, now, window, retryAfter);
        return decision;
    }

    private bool IsDue => DirectoryRetries.WaitLeft(state, now) is null;

    [Fact]
    public void A_failing_job_waits_longer_after_each_failure_and_is_not_due_meanwhile()
    {
        var window = TimeSpan.FromHours(1);

        var first = Failed(window);
        var dueAtOnce = IsDue;
        now += first.RetryAfter;
        var dueAfterWait = IsDue;
        var second = Failed(window);

        Assert.False(first.GiveUp);
        Assert.Equal(TimeSpan.FromSeconds(5), first.RetryAfter);
        Assert.False(dueAtOnce);
        Assert.True(dueAfterWait);
        Assert.Equal(TimeSpan.FromSeconds(10), second.RetryAfter);
    }

    [Fact]
    public void The_delay_honours_retry_after_and_never_exceeds_five_minutes()
    {
        var window = TimeSpan.FromDays(1);

        var asked = Failed(window, TimeSpan.FromSeconds(42));
        var delays = Enumerable.Range(0, 12).Select(_ => Failed(window).RetryAfter).ToList();

        Assert.Equal(TimeSpan.FromSeconds(42), asked.RetryAfter);
        Assert.Equal(TimeSpan.FromMinutes(5), delays.Max());
    }

    [Fact]
    public void A_job_is_given_up_once_it_has_failed_for_the_whole_window_and_a_later_failure_starts_a_new_window()
    {
        var window = TimeSpan.FromMinutes(1);

        Failed(window);
        now += TimeSpan.FromSeconds(59);
        var before = Failed(window);
        now += TimeSpan.FromSeconds(1);
        var after = Failed(window);

        Assert.False(before.GiveUp);
        Assert.True(after.GiveUp);
        Assert.Null(state);
        // A re-run of the job that meets the directory down again waits from the first delay, not given up at once.
        var again = Failed(window);
        Assert.False(again.GiveUp);
        Assert.Equal(TimeSpan.FromSeconds(5), again.RetryAfter);
    }
}
