using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Rehome.Core.Mappings;

namespace Rehome.Server.Mappings;

/// <summary>A count of the mappings matching a filter; <paramref name="IsEstimate"/> when it was not made for this answer.</summary>
public readonly record struct MappingTotal(int Count, bool IsEstimate);

/// <summary>
/// How many mappings of a project match a filter, for the list's total and the grid's scroll bar. Up to
/// <see cref="ExactUpTo"/> the count is made for every answer (it stops there, so it costs what a page does);
/// beyond, an exact count made less than <see cref="MaxAge"/> ago for the same project and filter is reused and
/// the answer says it is an estimate: counting a million rows on each page, and on each second's refresh of the
/// grid, is work nobody reads. One per server process.
/// </summary>
public sealed class MappingCounts(TimeProvider time)
{
    public const int ExactUpTo = 10_000;

    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(15);

    private readonly ConcurrentDictionary<(Guid Project, MappingFilter Filter), (int Count, DateTimeOffset At)> _large = new();

    /// <summary>The total of <paramref name="matching"/>: the mappings of <paramref name="projectId"/> that match <paramref name="filter"/>.</summary>
    public async Task<MappingTotal> CountAsync(Guid projectId, MappingFilter filter, IQueryable<Mapping> matching, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var key = (projectId, Normalised(filter));
        var now = time.GetUtcNow();
        if (_large.TryGetValue(key, out var known) && now - known.At < MaxAge)
        {
            return new(known.Count, IsEstimate: true);
        }
        var bounded = await matching.Take(ExactUpTo + 1).CountAsync(ct);
        if (bounded <= ExactUpTo)
        {
            _large.TryRemove(key, out _);
            return new(bounded, IsEstimate: false);
        }
        var count = await matching.CountAsync(ct);
        _large[key] = (count, now);
        if (_large.Count > 1000)
        {
            // Old filters are dropped now and then rather than on a timer.
            foreach (var stale in _large.Where(e => now - e.Value.At >= MaxAge).Select(e => e.Key).ToList())
            {
                _large.TryRemove(stale, out _);
            }
        }
        return new(count, IsEstimate: false);
    }

    /// <summary>
    /// Keeps the counts that a reading of a project's mappings by status (<paramref name="byStatus"/>: status name, or
    /// <see cref="MappingQuery.NotStarted"/>, to count) has just made: they are the totals of the unfiltered grid and of
    /// each status filter, so the grid's first window of a large project counts nothing again (it says "about N").
    /// </summary>
    public void Remember(Guid projectId, IReadOnlyDictionary<string, int> byStatus)
    {
        ArgumentNullException.ThrowIfNull(byStatus);
        var now = time.GetUtcNow();
        var all = byStatus.Values.Sum();
        if (all > ExactUpTo)
        {
            _large[(projectId, Normalised(new MappingFilter()))] = (all, now);
        }
        foreach (var (status, count) in byStatus.Where(s => s.Value > ExactUpTo))
        {
            _large[(projectId, Normalised(new MappingFilter { Status = status }))] = (count, now);
        }
    }

    /// <summary>The same filter however it was spelled (case, blanks), so that equal filters share a count.</summary>
    private static MappingFilter Normalised(MappingFilter filter) => new()
    {
        Status = Word(filter.Status),
        Stage = Word(filter.Stage),
        Readiness = Word(filter.Readiness),
        Search = string.IsNullOrWhiteSpace(filter.Search) ? null : filter.Search.Trim().ToUpperInvariant(),
    };

    private static string? Word(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim().ToUpperInvariant();
}
