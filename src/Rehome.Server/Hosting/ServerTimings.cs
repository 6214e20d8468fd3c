namespace Rehome.Server.Hosting;

/// <summary>
/// The server's intervals and timeouts that are not settings, in one place (docs/timings.md says why each is what
/// it is). The ones an operator sets are options: <see cref="Runs.RunEngineOptions"/>, <see cref="Gateway.GatewayOptions"/>,
/// <see cref="Directories.DirectoriesOptions"/>, <see cref="Directories.Connected.ConnectedDirectoryOptions"/>.
/// </summary>
public static class ServerTimings
{
    /// <summary>How long one engine tick spends preparing destinations before it moves on (the next tick goes on).</summary>
    public static TimeSpan PreparationBudget { get; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one engine tick spends writing the mapping rows of runs accepted as run items (the next tick goes on).</summary>
    public static TimeSpan SummaryCatchUpBudget { get; } = TimeSpan.FromSeconds(3);

    /// <summary>How long one replica's claim on a destination preparation holds: longer than any provisioning takes.</summary>
    public static TimeSpan PreparationClaim { get; } = TimeSpan.FromMinutes(5);

    /// <summary>The window of the sign-in and enrollment rate limits (their counts are settings).</summary>
    public static TimeSpan RateLimitWindow { get; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a stopping server waits for the lease batcher to answer the polls it holds.</summary>
    public static TimeSpan LeaseBatcherStopWait { get; } = TimeSpan.FromSeconds(5);
}
