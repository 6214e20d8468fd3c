using Microsoft.Extensions.Options;
using Rehome.Server.Gateway;
using Rehome.Server.Store;

namespace Rehome.Server.Runs;

/// <summary>
/// The run engine's clock: releases scheduled runs at their time, writes the mapping rows of runs accepted as run
/// items, prepares destinations, returns lapsed leases to their queue and writes the agents' last-seen times.
/// (Prerequisites need no clock: a rejoin releases or fails its dependents in the transaction that ends it.)
/// Each step is a conditional UPDATE, so several replicas may tick at once.
/// </summary>
public sealed class RunEngineService(
    IServiceScopeFactory scopes, IOptions<RunEngineOptions> options, IOptions<GatewayOptions> gatewayOptions, AgentRegistry agents,
    ReportPace pace, TimeProvider time, ILogger<RunEngineService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Background)
        {
            return;
        }
        using var timer = new PeriodicTimer(options.Value.TickInterval, time);
        try
        {
            await TickLoopAsync(timer, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The server stops.
        }
    }

    /// <summary>
    /// Writes the last-seen times heard since the last flush before the server goes, so that a restart does not make
    /// polling agents look silent since up to a flush interval before it.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await agents.FlushPresenceAsync(scope.ServiceProvider.GetRequiredService<RehomeDbContext>(), TimeSpan.Zero, cancellationToken);
        }
        catch (Exception e)
        {
            // The store is away or the host gave up waiting: the times stay as the last flush wrote them.
            logger.LogWarning(e, "The agents' last-seen times could not be written at shutdown");
        }
    }

    private async Task TickLoopAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        do
        {
            try
            {
                await TickAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A failing tick (database restarting, say) must not end the engine; the next tick tries again. While
                // it failed, nobody watched the devices: their silence is counted again from when it works.
                watchingSince = null;
                logger.LogError(e, "Run engine tick failed");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private DateTimeOffset lastOfflineSweep = DateTimeOffset.MinValue;

    private DateTimeOffset lastPace = DateTimeOffset.MinValue;

    /// <summary>
    /// Since when this engine has watched the devices without a break (its start, or the store's return after an
    /// outage). A device is never taken for offline for longer than that: servers stopped over a weekend, or a
    /// database away for hours, are not the devices' silence.
    /// </summary>
    private DateTimeOffset? watchingSince;

    /// <summary>The search for devices offline past their limit reads every policy: once an interval, not every tick.</summary>
    private bool OfflineSweepDue()
    {
        var now = time.GetUtcNow();
        if (now - lastOfflineSweep < options.Value.OfflineSweepInterval)
        {
            return false;
        }
        lastOfflineSweep = now;
        return true;
    }

    /// <summary>How long one tick spends preparing destinations before it moves on (the next tick goes on).</summary>
    public static readonly TimeSpan PreparationBudget = Hosting.ServerTimings.PreparationBudget;

    public async Task TickAsync(CancellationToken ct)
    {
        watchingSince ??= time.GetUtcNow();
        var watched = watchingSince.Value;
        await using var scope = scopes.CreateAsyncScope();
        var transitions = scope.ServiceProvider.GetRequiredService<JobTransitions>();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        // An idle tick asks the store two compiled questions instead of building each step's query (issue 16).
        var released = await EngineIdleChecks.AnyRunDue.For(db)(db, time.GetUtcNow(), ct) ? await transitions.ReleaseDueRunsAsync(ct) : 0;
        // A large run accepted as run items: its mappings' rows, which the list's indexes read (SummaryCatchUp). Its own
        // failure is logged and tried again next tick, never keeping the steps below (lapsed leases) from running.
        try
        {
            if (await EngineIdleChecks.AnyRunNotShown.For(db)(db, ct))
            {
                await scope.ServiceProvider.GetRequiredService<SummaryCatchUp>().CatchUpAsync(Hosting.ServerTimings.SummaryCatchUpBudget, ct);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Writing the mapping rows of runs accepted as run items failed; the next tick tries again");
        }
        var preparer = scope.ServiceProvider.GetRequiredService<DestinationPreparer>();
        var prepared = 0;
        // Real provisioning takes a second or so a computer: a few seconds of it per tick, so that lapsed leases
        // and scheduled runs are not kept waiting behind thousands of destinations.
        var budget = System.Diagnostics.Stopwatch.StartNew();
        for (var batch = -1; batch != 0 && prepared < 20 * DestinationPreparer.BatchSize && budget.Elapsed < PreparationBudget; prepared += batch)
        {
            batch = await preparer.PrepareWaitingAsync(ct);
        }
        // The presence first, so that this replica's agents are not taken for offline by what follows.
        await agents.FlushPresenceAsync(db, gatewayOptions.Value.PresenceFlushInterval, ct);
        var lapsed = await EngineIdleChecks.AnyLeaseLapsed.For(db)(db, time.GetUtcNow(), ct)
            ? await transitions.ExpireLeasesAsync(options.Value.MaxAttempts, ct, watched)
            : 0;
        var offline = OfflineSweepDue() ? await transitions.FailOfflineDevicesAsync(ct, watched) : 0;
        if (time.GetUtcNow() - lastPace >= options.Value.PaceInterval)
        {
            lastPace = time.GetUtcNow();
            var before = pace.Interval;
            pace.Update(await transitions.CountRunningAsync(ct));
            if (pace.Interval != before)
            {
                logger.LogInformation("{Running} job(s) running: agents report every {Interval} (null: at their own pace), leases last {Lease}",
                    pace.Running, pace.Interval, pace.LeaseDuration);
            }
        }
        if (released + prepared + lapsed + offline > 0)
        {
            logger.LogInformation(
                "Run engine: {Released} run(s) released, {Prepared} destination(s) prepared, {Lapsed} lapsed lease(s), {Offline} job(s) failed as device offline",
                released, prepared, lapsed, offline);
        }
    }
}
