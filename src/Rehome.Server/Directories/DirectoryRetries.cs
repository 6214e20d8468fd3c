using System.Collections.Concurrent;

namespace Rehome.Server.Directories;

/// <summary>What to do after a directory could not be reached for a job.</summary>
/// <param name="GiveUp">True once the job has been retried for the whole retry window: fail it with the reason.</param>
/// <param name="RetryAfter">How long to wait before the next try.</param>
public sealed record RetryDecision(bool GiveUp, TimeSpan RetryAfter);

/// <summary>
/// Back-off for jobs whose directory is unreachable (DC down, Graph outage or throttling): each job is tried
/// again after 5 s, 10 s, 20 s… up to 5 minutes, and failed with the reason once it has waited for
/// <see cref="DirectoriesOptions.RetryWindow"/>. Held in memory: after a restart a job starts a new window,
/// which can only make it wait longer, never lose it.
/// </summary>
public sealed class DirectoryRetries(DirectoriesOptions options, TimeProvider time)
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<Guid, (DateTimeOffset FirstFailure, DateTimeOffset NextTry, TimeSpan Delay)> failing = new();

    /// <summary>Whether the job may be tried now (it is not waiting out a back-off).</summary>
    public bool IsDue(Guid jobId) => IsDue(jobId, out _);

    /// <summary>Whether the job may be tried now; if not, how long it still waits.</summary>
    public bool IsDue(Guid jobId, out TimeSpan wait)
    {
        var now = time.GetUtcNow();
        wait = failing.TryGetValue(jobId, out var state) && now < state.NextTry ? state.NextTry - now : TimeSpan.Zero;
        return wait == TimeSpan.Zero;
    }

    /// <summary>Records a failure to reach the directory and says whether to wait or give up.</summary>
    /// <param name="jobId">The job.</param>
    /// <param name="retryAfter">What the directory asked for (Retry-After), if anything.</param>
    public RetryDecision Failed(Guid jobId, TimeSpan? retryAfter = null)
    {
        var now = time.GetUtcNow();
        var state = failing.AddOrUpdate(jobId,
            _ => (now, now + Max(FirstDelay, retryAfter), FirstDelay),
            (_, s) =>
            {
                var delay = TimeSpan.FromTicks(Math.Min(s.Delay.Ticks * 2, MaxDelay.Ticks));
                return (s.FirstFailure, now + Max(delay, retryAfter), delay);
            });
        if (now - state.FirstFailure >= options.RetryWindow)
        {
            failing.TryRemove(jobId, out _);
            return new RetryDecision(true, TimeSpan.Zero);
        }
        return new RetryDecision(false, state.NextTry - now);
    }

    /// <summary>The directory answered: the job's back-off starts over next time.</summary>
    public void Succeeded(Guid jobId) => failing.TryRemove(jobId, out _);

    private static TimeSpan Max(TimeSpan a, TimeSpan? b) => b is { } other && other > a ? other : a;
}
