namespace Rehome.Agent.Polling;

/// <summary>
/// How long to wait before the next call to a server that did not answer: decorrelated jitter (each wait drawn
/// between the first delay and three times the last wait, capped), so that thousands of devices that lost the
/// server together do not come back together. A server's Retry-After is a floor, with up to a tenth more drawn on
/// top so that devices told the same wait spread out too.
/// </summary>
public sealed class Backoff
{
    private readonly TimeSpan first;
    private readonly TimeSpan max;
    private readonly Random random;
    private TimeSpan last;

    /// <summary>Waits between <paramref name="first"/> and <paramref name="max"/>; the jitter comes from <paramref name="random"/> (seeded in tests, <see cref="Random.Shared"/> otherwise).</summary>
    public Backoff(TimeSpan first, TimeSpan max, Random? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(first, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, first);
        this.first = first;
        this.max = max;
        this.random = random ?? Random.Shared;
        last = first;
    }

    /// <summary>The wait before the next try, at least <paramref name="retryAfter"/> when the server asked for one.</summary>
    public TimeSpan Next(TimeSpan? retryAfter = null)
    {
        var upper = Math.Min(max.Ticks, last.Ticks * 3);
        last = TimeSpan.FromTicks(Between(first.Ticks, upper));
        return retryAfter is { } asked && asked > last ? TimeSpan.FromTicks(Between(asked.Ticks, asked.Ticks + asked.Ticks / 10)) : last;
    }

    /// <summary>The server answered: the next outage starts from the first delay again.</summary>
    public void Reset() => last = first;

    private long Between(long low, long high) => low + (long)(random.NextDouble() * (high - low));
}
