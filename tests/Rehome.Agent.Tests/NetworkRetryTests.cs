using Microsoft.Extensions.Time.Testing;
using Rehome.Agent.Polling;

namespace Rehome.Agent.Tests;

public sealed class NetworkRetryTests
{
    [Fact]
    public async Task A_busy_server_is_left_alone_for_as_long_as_it_asked_and_plain_failures_back_off()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 9, 0, 0, TimeSpan.Zero));
        var failures = new Queue<Exception>([new ServerBusyException(503, TimeSpan.FromMinutes(2)), new HttpRequestException("down"), new ServerBusyException(503, null)]);
        var waits = new List<TimeSpan>();

        var call = NetworkRetry.UntilAnsweredAsync(
            _ => failures.TryDequeue(out var failure) ? Task.FromException<int>(failure) : Task.FromResult(42),
            time, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(15), (_, wait) => waits.Add(wait), CancellationToken.None);
        while (!call.IsCompleted)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(1);
        }

        Assert.Equal(42, await call);
        Assert.Equal([TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)], waits);
    }
}
