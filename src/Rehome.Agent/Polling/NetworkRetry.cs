namespace Rehome.Agent.Polling;

/// <summary>
/// Calls the server until it answers, waiting longer (with jitter) after each network failure (the device may be
/// offline), and at least as long as a busy server asked.
/// </summary>
public static class NetworkRetry
{
    public static async Task<T> UntilAnsweredAsync<T>(
        Func<CancellationToken, Task<T>> call, TimeProvider time, RetryTimings timings,
        Action<HttpRequestException, TimeSpan>? onFailure, CancellationToken ct, Random? random = null)
    {
        var backoff = new Backoff(timings.First, timings.Max, random);
        while (true)
        {
            try
            {
                return await call(ct);
            }
            catch (HttpRequestException e)
            {
                var wait = backoff.Next((e as ServerBusyException)?.RetryAfter);
                onFailure?.Invoke(e, wait);
                await Task.Delay(wait, time, ct);
            }
        }
    }
}
