using System.Diagnostics;

namespace Rehome.Agent.Platform.Simulated;

/// <summary>A simulated device's network: every request fails while it is "offline".</summary>
public sealed class NetworkGate : DelegatingHandler
{
    private long offlineUntil;

    public NetworkGate()
    {
    }

    public NetworkGate(HttpMessageHandler inner) : base(inner)
    {
    }

    public bool IsOffline => Stopwatch.GetTimestamp() < Interlocked.Read(ref offlineUntil);

    public void GoOffline(TimeSpan duration) =>
        Interlocked.Exchange(ref offlineUntil, Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency));

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        IsOffline
            ? Task.FromException<HttpResponseMessage>(new HttpRequestException("The device is offline (simulated)."))
            : base.SendAsync(request, cancellationToken);
}
