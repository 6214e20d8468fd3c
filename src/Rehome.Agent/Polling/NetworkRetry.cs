namespace Rehome.Agent.Polling;

/// <summary>Calls the server until it answers, waiting longer after each network failure (the device may be offline).</summary>
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
                onFailure?.Invoke(e, delay);
                await Task.Delay(delay, time, ct);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, maxDelay.Ticks));
            }
        }
    }
}
