using Microsoft.Extensions.Time.Testing;
using Rehome.Server.Directories;

namespace Rehome.Server.Tests.Directories;

public sealed class DirectoryRetriesTests
{
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 11, 28, 9, 0, 0, TimeSpan.Zero));

    private DirectoryRetries Retries(TimeSpan window) => new(new DirectoriesOptions { RetryWindow = window }, time);

    [Fact]
    public void A_failing_job_waits_longer_after_each_failure_and_is_not_due_meanwhile()
    {
        var retries = Retries(TimeSpan.FromHours(1));
        var job = Guid.NewGuid();

        var first = retries.Failed(job);
        var dueAtOnce = retries.IsDue(job);
        time.Advance(first.RetryAfter);
        var dueAfterWait = retries.IsDue(job);
        var second = retries.Failed(job);

        Assert.False(first.GiveUp);
        Assert.Equal(TimeSpan.FromSeconds(5), first.RetryAfter);
        Assert.False(dueAtOnce);
        Assert.True(dueAfterWait);
        Assert.Equal(TimeSpan.FromSeconds(10), second.RetryAfter);
    }

    [Fact]
    public void The_delay_honours_retry_after_and_never_exceeds_five_minutes()
    {
        var retries = Retries(TimeSpan.FromDays(1));
        var job = Guid.NewGuid();

        var asked = retries.Failed(job, TimeSpan.FromSeconds(42));
        var delays = Enumerable.Range(0, 12).Select(_ => retries.Failed(job).RetryAfter).ToList();

        Assert.Equal(TimeSpan.FromSeconds(42), asked.RetryAfter);
        Assert.Equal(TimeSpan.FromMinutes(5), delays.Max());
    }

    [Fact]
    public void A_job_is_given_up_once_it_has_failed_for_the_whole_window_and_a_success_starts_over()
    {
        var retries = Retries(TimeSpan.FromMinutes(1));
        var job = Guid.NewGuid();
        var other = Guid.NewGuid();

        retries.Failed(job);
        retries.Failed(other);
        time.Advance(TimeSpan.FromSeconds(59));
        var before = retries.Failed(job);
        retries.Succeeded(other);
        time.Advance(TimeSpan.FromSeconds(1));
        var after = retries.Failed(job);
        var otherAgain = retries.Failed(other);

        Assert.False(before.GiveUp);
        Assert.True(after.GiveUp);
        Assert.False(otherAgain.GiveUp);
        Assert.True(retries.IsDue(job));
    }
}
