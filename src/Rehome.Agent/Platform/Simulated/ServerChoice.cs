namespace Rehome.Agent.Platform.Simulated;

/// <summary>
/// Sends a device's requests to one of several servers (replicas on one store), as a load balancer in front of
/// them would: its own server first; with failover, a server that refuses connections hands the device on to the
/// next one (the failed call fails as it would, and the agent's own retry goes to the next server).
/// </summary>
public sealed class ServerChoice(IReadOnlyList<Uri> servers, int first, bool failover, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    private int current = first % servers.Count;
    private int requests;
    private int polls;

    /// <summary>The server the device's next request goes to.</summary>
    public Uri Server => servers[Volatile.Read(ref current)];

    /// <summary>Requests the device's agent has sent (to any server).</summary>
    public int Requests => Volatile.Read(ref requests);

    /// <summary>Long polls the device's agent has sent: from the second on, the first has been answered.</summary>
    public int Polls => Volatile.Read(ref polls);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref requests);
        if (request.RequestUri!.AbsolutePath.EndsWith("/poll", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref polls);
        }
        var chosen = Volatile.Read(ref current);
        if (servers.Count > 1)
        {
            // The agent's client is made for the server it started with; the request goes where the device is now.
            request.RequestUri = new Uri(servers[chosen], request.RequestUri.PathAndQuery);
        }
        try
        {
            return await base.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e) when (failover && servers.Count > 1 && e.HttpRequestError == HttpRequestError.ConnectionError)
        {
            Interlocked.CompareExchange(ref current, (chosen + 1) % servers.Count, chosen);
            throw;
        }
    }
}
