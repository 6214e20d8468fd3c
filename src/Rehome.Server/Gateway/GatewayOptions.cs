using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Rehome.Server.Store;

namespace Rehome.Server.Gateway;

/// <summary>The agent gateway's settings. Bound from <c>Rehome:Gateway</c>.</summary>
public sealed class GatewayOptions
{
    public const string Section = "Rehome:Gateway";

    /// <summary>
    /// How often the server looks in the store for jobs waiting to start that no wake-up signal announced, for the
    /// mappings whose polls wait here (<see cref="PollRecheck"/>, one query for them all): the fallback. Signals come
    /// from this server's own writes and, on PostgreSQL, from every other replica's (LISTEN/NOTIFY); only a signal
    /// lost on the way (a replica that died between its commit and its NOTIFY) waits for this re-check. An agent
    /// without a mapping looks for one this often.
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

    /// <summary>
    /// How many agent requests may use the store at once on this server (<see cref="GatewayStoreLane"/>); unset, half
    /// of PostgreSQL's connection pool, or 32 on SQLite. On PostgreSQL it must leave part of the pool to
    /// administrators and the run engine.
    /// </summary>
    [Range(1, 10_000)]
    public int? StoreConcurrency { get; set; }

    /// <summary>
    /// How long an agent request waits for its turn on the store before it is answered 503 ServerBusy (three times it
    /// for progress and completion, which keep a job). At most 15 s: three times it stays inside the agent's HTTP timeout.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:00:15")]
    public TimeSpan StoreQueueTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>The gateway's settings that only make sense together.</summary>
public sealed class GatewayOptionsRules(IOptions<StoreOptions> store) : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        // Last-seen times reach the store once a flush: a window no longer than that shows polling agents offline.
        if (options.OnlineWindow <= options.PresenceFlushInterval)
        {
            return ValidateOptionsResult.Fail($"{GatewayOptions.Section}:{nameof(GatewayOptions.OnlineWindow)} ({options.OnlineWindow}) must be longer than "
                + $"{GatewayOptions.Section}:{nameof(GatewayOptions.PresenceFlushInterval)} ({options.PresenceFlushInterval}), or agents that poll show as offline between flushes.");
        }
        if (store.Value.Provider != StoreProvider.PostgreSql)
        {
            return ValidateOptionsResult.Success;
        }
        int pool;
        try
        {
            pool = GatewayStoreLane.PoolSize(store.Value);
        }
        catch (ArgumentException)
        {
            return ValidateOptionsResult.Fail($"{StoreOptions.Section}:{nameof(StoreOptions.ConnectionString)} is not a PostgreSQL connection string.");
        }
        // Agents holding every pooled connection would leave none for administrators and the run engine.
        var share = GatewayStoreLane.CapacityFor(options, store.Value);
        return share >= pool
            ? ValidateOptionsResult.Fail($"{GatewayOptions.Section}:{nameof(GatewayOptions.StoreConcurrency)} ({share}) must be smaller than the "
                + $"PostgreSQL connection pool (Maximum Pool Size {pool}), or agents can take every connection and leave none for administrators.")
            : ValidateOptionsResult.Success;
    }
}
