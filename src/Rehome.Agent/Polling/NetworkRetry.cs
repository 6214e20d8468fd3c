namespace Rehome.Agent.Polling;

/// <summary>
/// Calls the server until it answers, waiting longer after each network failure (the device may be offline), and at
/// least as long as a busy server asked.
/// </summary>
public static class NetworkRetry
{
    public static async Task<T> UntilAnsweredAsync<T>(
        Func<CancellationToken, Task<T>> call, TimeProvider time, TimeSpan firstDelay, TimeSpan maxDelay,
        Action<HttpRequestException, TimeSpan>? onFailure, CancellationToken ct)
    {
        var delay = firstDelay;
        while (true)
        {
            try
            {
                return await call(ct);
            }
            catch (HttpRequestException e)
            {
                // The server's Retry-After wins when it asks for longer than the back-off would wait.
                var wait = e is ServerBusyException { RetryAfter: { } asked } && asked > delay ? asked : delay;
                onFailure?.Invoke(e, wait);
                await Task.Delay(wait, time, ct);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, maxDelay.Ticks));
            }
        }
    }
}
