using Microsoft.Extensions.Options;

namespace Rehome.Server.Notifications;

/// <summary>The dispatcher's clock: every <see cref="NotificationOptions.DispatchInterval"/>, one pass on a scope of its own.</summary>
public sealed class NotificationService(IServiceScopeFactory scopes, IOptions<NotificationOptions> options, TimeProvider time, ILogger<NotificationService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Background)
        {
            return;
        }
        using var timer = new PeriodicTimer(options.Value.DispatchInterval, time);
        try
        {
            do
            {
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    await scope.ServiceProvider.GetRequiredService<NotificationDispatcher>().RunOnceAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A store away, or two replicas opening a subscription's window at once: the next pass tries again.
                    logger.LogWarning(e, "Notification dispatch failed; trying again at the next pass");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The server stops.
        }
    }
}
