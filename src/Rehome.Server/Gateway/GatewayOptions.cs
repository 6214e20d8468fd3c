using System.ComponentModel.DataAnnotations;

namespace Rehome.Server.Gateway;

/// <summary>The agent gateway's settings. Bound from <c>Rehome:Gateway</c>.</summary>
public sealed class GatewayOptions
{
    public const string Section = "Rehome:Gateway";

    /// <summary>
    /// How often an idle poll looks in the store even without a wake-up signal: the fallback. Signals come from
    /// this server's own writes and, on PostgreSQL, from every other replica's (LISTEN/NOTIFY); only a signal lost
    /// on the way (a replica that died between its commit and its NOTIFY) waits for this re-check.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan RecheckInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>An agent not heard from for this long shows as offline.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "01:00:00")]
    public TimeSpan OnlineWindow { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>How often the agents' last-seen times (kept in memory, so idle polls do not write) reach the store.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan PresenceFlushInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Enrollments accepted per minute per client address.</summary>
    [Range(1, 1_000_000)]
    public int EnrollmentsPerMinute { get; set; } = 120;
}
