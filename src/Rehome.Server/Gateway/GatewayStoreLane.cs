using Microsoft.Extensions.Options;
using Npgsql;
using Rehome.Server.Store;

namespace Rehome.Server.Gateway;

/// <summary>
/// A bulkhead for the agents' store work: at most <see cref="Capacity"/> agent requests use the store at once on this
/// server, so that thousands of devices enrolling or reporting together (after a restart, every agent at once) leave
/// the rest of the connection pool to administrators and the run engine. A request that waits longer than
/// <see cref="GatewayOptions.StoreQueueTimeout"/> for its turn is answered 503 <c>ServerBusy</c> with Retry-After,
/// which agents wait out. A long poll holds no permit while it waits: only its store looks take one.
/// Calls that keep a job (<see cref="KeepsJob"/>: progress, which renews the lease, and completion) are never turned
/// away: they wait in line, which is bounded by the queue timeout of those ahead of them. Shedding them would let
/// leases lapse and run jobs again, the cost the share is there to avoid.
/// </summary>
public sealed class GatewayStoreLane
{
    private readonly SemaphoreSlim permits;
    private readonly TimeSpan queueTimeout;

    public GatewayStoreLane(IOptions<GatewayOptions> gateway, IOptions<StoreOptions> store)
    {
        Capacity = CapacityFor(gateway.Value, store.Value);
        permits = new SemaphoreSlim(Capacity, Capacity);
        queueTimeout = gateway.Value.StoreQueueTimeout;
    }

    /// <summary>How many agent requests may use the store at once.</summary>
    public int Capacity { get; }

    /// <summary>How many are using it now (for the metrics and the tests).</summary>
    public int InUse => Capacity - permits.CurrentCount;

    /// <summary>
    /// Waits for a turn on the store; throws <see cref="ServerBusyException"/> when none comes in time, unless the
    /// call keeps a job (<paramref name="keepsJob"/>): that one waits as long as its request lives.
    /// </summary>
    public async ValueTask<Permit> EnterAsync(CancellationToken ct, bool keepsJob = false)
    {
        if (!await permits.WaitAsync(keepsJob ? Timeout.InfiniteTimeSpan : queueTimeout, ct))
        {
            throw new ServerBusyException($"{Capacity} agent requests were using the store for longer than {queueTimeout.TotalSeconds:0} s.");
        }
        return new Permit(permits);
    }

    /// <summary>
    /// The configured share, or by default half of PostgreSQL's pool (Npgsql's <c>Maximum Pool Size</c>, 100 unless
    /// the connection string says otherwise); SQLite has one writer whatever the share, so 32 keeps readers busy
    /// without queueing thousands of writers on its lock.
    /// </summary>
    public static int CapacityFor(GatewayOptions gateway, StoreOptions store) =>
        gateway.StoreConcurrency ?? (store.Provider == StoreProvider.PostgreSql ? Math.Max(1, PoolSize(store) / 2) : 32);

    /// <summary>The PostgreSQL pool's size as the connection string sets it.</summary>
    public static int PoolSize(StoreOptions store) => new NpgsqlConnectionStringBuilder(store.ConnectionString).MaxPoolSize;

    /// <summary>A turn on the store; disposing it gives the turn back.</summary>
    public readonly struct Permit(SemaphoreSlim permits) : IDisposable
    {
        public void Dispose() => permits.Release();
    }
}

/// <summary>Runs a gateway endpoint's store work inside the lane (every gateway endpoint but the long poll).</summary>
public sealed class GatewayStoreLaneFilter(GatewayStoreLane lane) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        using var permit = await lane.EnterAsync(context.HttpContext.RequestAborted, KeepsJob.On(context.HttpContext));
        return await next(context);
    }
}

/// <summary>Endpoint metadata: the call keeps a device's job (renews its lease or ends it), so the lane never turns it away.</summary>
public sealed class KeepsJob
{
    public static KeepsJob Instance { get; } = new();

    public static bool On(HttpContext http) => http.GetEndpoint()?.Metadata.GetMetadata<KeepsJob>() is not null;
}

/// <summary>The server could take no more store work in time: answered 503 <c>ServerBusy</c>, never a 500.</summary>
public sealed class ServerBusyException(string reason) : Exception(reason);
