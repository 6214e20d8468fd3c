using Rehome.Core.Runs;

namespace Rehome.Server.Reports;

/// <summary>
/// Adds up jobs one at a time as the store streams them: counts, durations (one number per measured job: a
/// median needs them all) and area sums, never the jobs themselves.
/// </summary>
public sealed class JobTotalsBuilder
{
    private readonly Dictionary<(JobKind, JobStatus), int> _counts = [];
    private readonly Dictionary<JobKind, List<long>> _durations = [];
    private readonly Dictionary<string, (long Seen, long Changed, long Failed, int NotDone)> _areas = new(StringComparer.Ordinal);
    private bool _anyActive;
    private DateTimeOffset? _lastFinished;

    public void Add(JobKind kind, JobStatus status, DateTimeOffset? startedAt, DateTimeOffset? finishedAt, IReadOnlyList<JobAreaCount>? areas)
    {
        _counts[(kind, status)] = _counts.GetValueOrDefault((kind, status)) + 1;
        _anyActive |= status.IsActive();
        if (finishedAt is { } finished)
        {
            _lastFinished = _lastFinished is { } last && last >= finished ? last : finished;
            if (startedAt is { } started && finished >= started)
            {
                (_durations.TryGetValue(kind, out var list) ? list : _durations[kind] = []).Add((finished - started).Ticks);
            }
        }
        foreach (var area in areas ?? [])
        {
            var (seen, changed, failed, notDone) = _areas.GetValueOrDefault(area.Area);
            _areas[area.Area] = area.Problem is null
                ? (seen + area.Seen, changed + area.Changed, failed + area.Failed, notDone)
                : (seen, changed, failed, notDone + 1);
        }
    }

    public JobTotals Build() => new(
        [.. _counts.OrderBy(c => c.Key.Item1).ThenBy(c => c.Key.Item2).Select(c => new StatusCount(c.Key.Item1, c.Key.Item2, c.Value))],
        [.. _durations.OrderBy(d => d.Key).Select(d => Summarise(d.Key, d.Value))],
        [.. _areas.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => new AreaTotal(a.Key, a.Value.Seen, a.Value.Changed, a.Value.Failed, a.Value.NotDone))],
        !_anyActive,
        _lastFinished);

    /// <summary>Minimum, median (the mean of the middle two for an even count) and maximum.</summary>
    public static DurationStats Summarise(JobKind kind, List<long> ticks)
    {
        ticks.Sort();
        var middle = ticks.Count / 2;
        var median = ticks.Count % 2 == 1 ? ticks[middle] : (ticks[middle - 1] + ticks[middle]) / 2;
        return new DurationStats(kind, ticks.Count, TimeSpan.FromTicks(ticks[0]), TimeSpan.FromTicks(median), TimeSpan.FromTicks(ticks[^1]));
    }
}
