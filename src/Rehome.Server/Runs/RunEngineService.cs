using Microsoft.Extensions.Options;

namespace Rehome.Server.Runs;

/// <summary>
/// The run engine's clock: releases scheduled runs at their time and returns lapsed leases to their queue.
/// (Prerequisites need no clock: a rejoin releases or fails its dependents in the transaction that ends it.)
/// Each step is a conditional UPDATE, so several replicas may tick at once.
/// </summary>
public sealed class RunEngineService(
    IServiceScopeFactory scopes, IOptions<RunEngineOptions> options, TimeProvider time, ILogger<RunEngineService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Background)
        {
            return;
        }
        using var timer = new PeriodicTimer(options.Value.TickInterval, time);
        do
        {
            try
            {
                await TickAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A failing tick (database restarting, say) must not end the engine; the next tick tries again.
                logger.LogError(e, "Run engine tick failed");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public async Task TickAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var transitions = scope.ServiceProvider.GetRequiredService<JobTransitions>();
        var released = await transitions.ReleaseDueRunsAsync(ct);
        var lapsed = await transitions.ExpireLeasesAsync(options.Value.MaxAttempts, ct);
        if (released + lapsed > 0)
        {
            logger.LogInformation("Run engine: {Released} run(s) released, {Lapsed} lapsed lease(s)", released, lapsed);
        }
    }
}
