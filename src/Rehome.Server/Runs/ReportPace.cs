using Microsoft.Extensions.Options;
using Rehome.Protocol;

namespace Rehome.Server.Runs;

/// <summary>
/// How often agents report on the jobs they run, set by how many jobs run at once. Every running job renews its lease
/// with a report (and uploads its log after it) at each step and every few seconds: 10,000 devices working at once sent
/// the server thousands of reports a second, more than one SQLite writer takes, and the reports that queued too long
/// let their leases lapse (14,000 of 50,000 jobs ran twice in a 10,000-device rehearsal). Past
/// <see cref="RunEngineOptions.ReportsPerSecond"/> the server asks each agent to report less often (in every answer to
/// a report) and gives each lease four such intervals, so that a lease never lapses while its device reports as asked.
/// Below it, the agents keep their own pace. One count of the running jobs (in the store, so every replica paces the
/// whole fleet) is read by the engine's clock (<see cref="RunEngineService"/>) every few seconds.
/// </summary>
public sealed class ReportPace(IOptions<RunEngineOptions> options)
{
    /// <summary>The pace of an agent left to itself.</summary>
    public static readonly TimeSpan AgentPace = TimeSpan.FromSeconds(AgentProtocol.OwnReportSeconds);

    /// <summary>The longest the server asks an agent to wait between reports: a stop request is heard within it.</summary>
    public static readonly TimeSpan Slowest = TimeSpan.FromSeconds(60);

    /// <summary>A lease lasts this many intervals between reports, so a report or two lost or late costs nothing.</summary>
    public const int IntervalsPerLease = 4;

    private volatile Pace current = new(0, null);

    /// <summary>The jobs running when the pace was last set.</summary>
    public int Running => current.Running;

    /// <summary>How long agents should wait between reports; null while they may keep their own pace.</summary>
    public TimeSpan? Interval => current.Interval;

    /// <summary>How long a lease lasts from a report or a lease made now: the configured duration, or four intervals if longer.</summary>
    public TimeSpan LeaseDuration => LeaseFor(Interval);

    /// <summary>The lease that goes with an answer asking for <paramref name="interval"/> between reports.</summary>
    public TimeSpan LeaseFor(TimeSpan? interval) => LeaseWith(options.Value.LeaseDuration, interval);

    /// <summary>Sets the pace for this many running jobs.</summary>
    public void Update(int running) => current = new Pace(running, IntervalFor(running, options.Value.ReportsPerSecond));

    /// <summary>
    /// The interval that keeps <paramref name="running"/> jobs' reports near <paramref name="reportsPerSecond"/>, or
    /// null while the agents' own pace already does; never above <see cref="Slowest"/>.
    /// </summary>
    public static TimeSpan? IntervalFor(int running, int reportsPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(reportsPerSecond);
        var seconds = Math.Ceiling((double)Math.Max(0, running) / reportsPerSecond);
        return seconds <= AgentPace.TotalSeconds ? null : TimeSpan.FromSeconds(Math.Min(seconds, Slowest.TotalSeconds));
    }

    /// <summary>The configured lease, or <see cref="IntervalsPerLease"/> intervals when the pace is slower than a quarter of it.</summary>
    public static TimeSpan LeaseWith(TimeSpan configured, TimeSpan? interval) =>
        interval is { } pace && pace * IntervalsPerLease > configured ? pace * IntervalsPerLease : configured;

    private sealed record Pace(int Running, TimeSpan? Interval);
}
