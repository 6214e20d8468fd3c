using Microsoft.Extensions.Time.Testing;
using Rehome.Agent.Polling;

namespace Rehome.Agent.Tests;

public sealed class NetworkRetryTests
{
    private static readonly TimeSpan First = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_busy_server_is_left_alone_for_at_least_as_long_as_it_asked_and_plain_failures_back_off()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 9, 0, 0, TimeSpan.Zero));
        var failures = new Queue<Exception>([new ServerBusyException(503, TimeSpan.FromMinutes(2)), new HttpRequestException("down"), new ServerBusyException(503, null)]);
        var waits = new List<TimeSpan>();

        var call = NetworkRetry.UntilAnsweredAsync(
            _ => failures.TryDequeue(out var failure) ? Task.FromException<int>(failure) : Task.FromResult(42),
            time, new RetryTimings(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(15)), (_, wait) => waits.Add(wait), CancellationToken.None, new Random(14));
        while (!call.IsCompleted)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(1);
        }

        Assert.Equal(42, await call);
        Assert.Equal(3, waits.Count);
        Assert.InRange(waits[0], TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(2.2));
        Assert.All(waits.Skip(1), w => Assert.InRange(w, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public void Ten_thousand_devices_that_lost_the_server_together_come_back_spread_over_time_not_in_lockstep()
    {
        var random = new Random(14);
        var backoffs = Enumerable.Range(0, 10_000).Select(_ => new Backoff(First, Max, random)).ToList();

        // Every device fails the same five times in a row; when does each one call the sixth time?
        var returns = backoffs.Select(b => Enumerable.Range(0, 5).Sum(_ => b.Next().TotalSeconds)).ToList();

        var busiestSecond = returns.GroupBy(s => (int)s).Max(g => g.Count());
        Assert.True(busiestSecond < 300, $"{busiestSecond} of 10,000 devices call back in the same second");
        Assert.True(returns.Max() - returns.Min() > 60, "the returns spread over more than a minute");
    }

    [Fact]
    public void Every_wait_lies_between_the_first_delay_and_the_longest_and_grows_on_average()
    {
        var backoff = new Backoff(First, Max, new Random(7));

        var waits = Enumerable.Range(0, 1_000).Select(_ => backoff.Next()).ToList();

        Assert.All(waits, w => Assert.InRange(w, First, Max));
        Assert.True(waits.Skip(500).Average(w => w.TotalSeconds) > waits[0].TotalSeconds * 3);
    }

    [Fact]
    public void A_servers_Retry_After_is_a_floor_with_at_most_a_tenth_more_so_devices_told_the_same_wait_spread_out()
    {
        var random = new Random(3);
        var asked = TimeSpan.FromSeconds(30);

        var waits = Enumerable.Range(0, 1_000).Select(_ => new Backoff(First, Max, random).Next(asked)).ToList();

        Assert.All(waits, w => Assert.InRange(w, asked, asked + asked / 10));
        Assert.True(waits.Distinct().Count() > 900);
    }

    [Fact]
    public void An_answer_starts_the_next_outage_from_the_first_delay_again()
    {
        var backoff = new Backoff(First, Max, new Random(5));
        for (var i = 0; i < 20; i++)
        {
            backoff.Next();
        }

        backoff.Reset();

        Assert.InRange(backoff.Next(), First, First * 3);
    }
}
