using System.ComponentModel.DataAnnotations;

namespace Rehome.Server.Runs;

/// <summary>Timing of the run engine. Bound from <c>Rehome:Runs</c>.</summary>
public sealed class RunEngineOptions
{
    public const string Section = "Rehome:Runs";

    /// <summary>
    /// Whether this server runs the engine's clock. Every replica may (the steps are safe to race); tests turn
    /// it off and call <see cref="RunEngineService.TickAsync"/> themselves. The engine's clock also writes this
    /// replica's agents' last-seen times: a replica with it off leaves its agents looking silent to the others (and
    /// failed as offline past the policy's limit), so keep it on on every replica that serves agents.
    /// </summary>
    public bool Background { get; set; } = true;

    /// <summary>How often the engine releases scheduled runs, returns lapsed leases and sweeps prerequisites.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long an agent holds a job between renewals.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "01:00:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How many progress reports a second the agents of all running jobs may send before the server asks each to report
    /// less often (and lengthens their leases to match, see <see cref="ReportPace"/>). Each report renews a lease in
    /// one write: keep it well under what the store writes a second on this machine.
    /// </summary>
    [Range(1, 100_000)]
    public int ReportsPerSecond { get; set; } = 250;

    /// <summary>How often the engine counts the running jobs to set the agents' report pace.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan PaceInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>After this many leases that lapsed, a job fails instead of returning to its queue.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>
    /// How often the engine looks for jobs waiting on a device that went silent for longer than its policy's
    /// device offline limit (an hour at least, so a minute's delay changes nothing).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan OfflineSweepInterval { get; set; } = TimeSpan.FromMinutes(1);
}
