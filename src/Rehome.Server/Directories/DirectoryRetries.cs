using Microsoft.EntityFrameworkCore;
using Rehome.Server.Store;

namespace Rehome.Server.Directories;

/// <summary>What to do after a directory could not be reached for a job.</summary>
/// <param name="GiveUp">True once the job has been retried for the whole retry window: fail it with the reason.</param>
/// <param name="RetryAfter">How long to wait before the next try.</param>
public sealed record RetryDecision(bool GiveUp, TimeSpan RetryAfter);

/// <summary>A job's back-off while its directory is unreachable, as its row keeps it.</summary>
/// <param name="FailingSince">The first failure of the current window.</param>
/// <param name="NextTry">The directory is not asked again for the job before this.</param>
/// <param name="Delay">The last back-off, doubled at the next failure.</param>
public sealed record RetryState(DateTimeOffset FailingSince, DateTimeOffset NextTry, TimeSpan Delay);

/// <summary>
/// Back-off for jobs whose directory is unreachable (DC down, Graph outage or throttling): each job is tried
/// again after 5 s, 10 s, 20 s… up to 5 minutes, and failed with the reason once it has waited for
/// <see cref="DirectoriesOptions.RetryWindow"/>. The window is kept on the job's row, so a job that another
/// replica handles next, or that outlives a restart, continues its window rather than starting a new one.
/// </summary>
public sealed class DirectoryRetries(RehomeDbContext db, DirectoriesOptions options, TimeProvider time)
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromMinutes(5);

    /// <summary>How long the job still waits out its back-off; null when it may be tried now.</summary>
    public async Task<TimeSpan?> WaitLeftAsync(Guid jobId, CancellationToken ct) =>
        WaitLeft(await StateAsync(jobId, ct), time.GetUtcNow());

    /// <summary>Records a failure to reach the directory and says whether to wait or give up.</summary>
    /// <param name="jobId">The job.</param>
    /// <param name="retryAfter">What the directory asked for (Retry-After), if anything.</param>
    /// <param name="ct">Cancels the store's read and write.</param>
    public async Task<RetryDecision> FailedAsync(Guid jobId, TimeSpan? retryAfter, CancellationToken ct)
    {
        // Two replicas failing the same job at the same moment both write; either result is a right one.
        var (state, decision) = AfterFailure(await StateAsync(jobId, ct), time.GetUtcNow(), options.RetryWindow, retryAfter);
        var (since, nextTry, delay) = (state?.FailingSince, state?.NextTry, state?.Delay);
        await db.Jobs.IgnoreQueryFilters().Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s
            .SetProperty(j => j.DirectoryFailingSince, since)
            .SetProperty(j => j.DirectoryNextTry, nextTry)
            .SetProperty(j => j.DirectoryRetryDelay, delay), ct);
        return decision;
    }

    /// <summary>The directory answered: the job's back-off starts over next time.</summary>
    public async Task SucceededAsync(Guid jobId, CancellationToken ct)
    {
        // Most calls find nothing to clear, and are spared the write by a read first: on SQLite even an UPDATE that
        // changes no row takes the write lock, and outside a transaction it waits for it in SQLite's sleeping busy
        // handler (see SqliteWriteGate), holding the request's share of the store meanwhile; one such write per directory
        // call made sid-map and return-ticket requests wait behind thousands of reports. A failure recorded between the
        // read and now is left for the job's next success, as one recorded just after the write would be.
        if (await StateAsync(jobId, ct) is null)
        {
            return;
        }
        await db.Jobs.IgnoreQueryFilters().Where(j => j.Id == jobId && j.DirectoryFailingSince != null).ExecuteUpdateAsync(s => s
            .SetProperty(j => j.DirectoryFailingSince, (DateTimeOffset?)null)
            .SetProperty(j => j.DirectoryNextTry, (DateTimeOffset?)null)
            .SetProperty(j => j.DirectoryRetryDelay, (TimeSpan?)null), ct);
    }

    /// <summary>How long a job in <paramref name="state"/> still waits at <paramref name="now"/>; null when it is due.</summary>
    public static TimeSpan? WaitLeft(RetryState? state, DateTimeOffset now) =>
        state is not null && now < state.NextTry ? state.NextTry - now : null;

    /// <summary>
    /// The job's next state after a failure at <paramref name="now"/> (null: the window is spent and the job gives
    /// up, so a later job on the row would start afresh) and what to do.
    /// </summary>
    public static (RetryState? State, RetryDecision Decision) AfterFailure(RetryState? state, DateTimeOffset now, TimeSpan window, TimeSpan? retryAfter)
    {
        var next = state is null
            ? new RetryState(now, now + Max(FirstDelay, retryAfter), FirstDelay)
            : Backed(state, now, retryAfter);
        return now - next.FailingSince >= window
            ? (null, new RetryDecision(true, TimeSpan.Zero))
            : (next, new RetryDecision(false, next.NextTry - now));
    }

    private static RetryState Backed(RetryState state, DateTimeOffset now, TimeSpan? retryAfter)
    {
        var delay = TimeSpan.FromTicks(Math.Min(state.Delay.Ticks * 2, MaxDelay.Ticks));
        return state with { NextTry = now + Max(delay, retryAfter), Delay = delay };
    }

    private async Task<RetryState?> StateAsync(Guid jobId, CancellationToken ct)
    {
        var row = await StateQuery.For(db)(db, jobId, ct);
        return row is { FailingSince: { } since, NextTry: { } nextTry, Delay: { } delay }
            ? new RetryState(since, nextTry, delay)
            : null;
    }

    private sealed record StoredState(DateTimeOffset? FailingSince, DateTimeOffset? NextTry, TimeSpan? Delay);

    // Compiled once: every directory call of every job reads it.
    private static readonly CompiledPerModel<Func<RehomeDbContext, Guid, CancellationToken, Task<StoredState?>>> StateQuery = new(() => EF.CompileAsyncQuery(
        (RehomeDbContext db, Guid jobId, CancellationToken ct) => db.StoredJobs.IgnoreQueryFilters().AsNoTracking().Where(j => j.Id == jobId)
            .Select(j => new StoredState(j.DirectoryFailingSince, j.DirectoryNextTry, j.DirectoryRetryDelay)).FirstOrDefault()));

    private static TimeSpan Max(TimeSpan a, TimeSpan? b) => b is { } other && other > a ? other : a;
}
