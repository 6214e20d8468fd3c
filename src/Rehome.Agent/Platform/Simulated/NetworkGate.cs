namespace Rehome.Agent.Platform.Simulated;

/// <summary>A simulated device's network: every request fails while it is "offline" (by the given clock, so tests can move it).</summary>
public sealed class NetworkGate : DelegatingHandler
{
    private readonly TimeProvider time;
    private long offlineUntil;

    public NetworkGate()
        : this(TimeProvider.System)
    {
    }

    public NetworkGate(TimeProvider time) => this.time = time;

    public NetworkGate(HttpMessageHandler inner)
        : this(inner, TimeProvider.System)
    {
    }

    public NetworkGate(HttpMessageHandler inner, TimeProvider time)
        : base(inner) => this.time = time;

    public bool IsOffline => time.GetTimestamp() < Interlocked.Read(ref offlineUntil);

    public void GoOffline(TimeSpan duration) =>
        Interlocked.Exchange(ref offlineUntil, time.GetTimestamp() + (long)(duration.TotalSeconds * time.TimestampFrequency));

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        IsOffline
            ? Task.FromException<HttpResponseMessage>(new HttpRequestException("The device is offline (simulated)."))
            : base.SendAsync(request, cancellationToken);
}
