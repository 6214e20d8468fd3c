using Microsoft.Extensions.Options;
using Npgsql;
using Rehome.Server.Runs;
using Rehome.Server.Store;

namespace Rehome.Server.Gateway;

/// <summary>
/// A bulkhead for the agents' store work: at most <see cref="Capacity"/> agent requests use the store at once on this
/// server, so that thousands of devices enrolling or reporting together (after a restart, every agent at once) leave
/// the rest of the connection pool to administrators and the run engine. A request that waits longer than
/// <see cref="GatewayOptions.StoreQueueTimeout"/> for its turn is answered 503 <c>ServerBusy</c> with Retry-After,
/// which agents wait out. A long poll holds no turn while it waits, and a directory call gives its turn back while the
/// directory answers (<see cref="GatewayTurn"/>): only store work holds one.
/// Calls that keep a job (<see cref="KeepsJob"/>: progress, which renews the lease, and completion) come first: a
/// quarter of the turns (<see cref="Reserved"/>) is theirs alone, a turn given back goes to one of them before any
/// other call, and they wait three times as long before they are turned away. On two cores shared with 2,000
/// devices, renewals once queued behind facts, logs and tickets holding every turn for over 10 s, and leases lapsed:
/// shedding or delaying them runs jobs again, the cost the share is there to avoid.
/// </summary>
public sealed class GatewayStoreLane
{
    private readonly Lock gate = new();
    private readonly LinkedList<TaskCompletionSource> keepers = new();
    private readonly LinkedList<TaskCompletionSource> others = new();
    private readonly TimeSpan queueTimeout;
    private int free;

    public GatewayStoreLane(IOptions<GatewayOptions> gateway, IOptions<StoreOptions> store)
    {
        Capacity = CapacityFor(gateway.Value, store.Value);
        Reserved = Capacity / 4;
        free = Capacity;
        queueTimeout = gateway.Value.StoreQueueTimeout;
    }

    /// <summary>How many agent requests may use the store at once.</summary>
    public int Capacity { get; }

    /// <summary>How many of the turns only calls that keep a job may take (none of a lane under four turns).</summary>
    public int Reserved { get; }

    /// <summary>How many are using it now.</summary>
    public int InUse
    {
        get
        {
            lock (gate)
            {
                return Capacity - free;
            }
        }
    }

    /// <summary>
    /// Waits for a turn on the store; throws <see cref="ServerBusyException"/> when none comes within the queue timeout
    /// (three times it for a call that keeps a job).
    /// </summary>
    public async ValueTask<Permit> EnterAsync(CancellationToken ct, bool keepsJob = false)
    {
        var patience = keepsJob ? queueTimeout * 3 : queueTimeout;
        TaskCompletionSource turn;
        LinkedListNode<TaskCompletionSource> place;
        lock (gate)
        {
            if (free > (keepsJob ? 0 : Reserved) && (keepsJob ? keepers : others).Count == 0)
            {
                free--;
                return new Permit(this);
            }
            turn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            place = (keepsJob ? keepers : others).AddLast(turn);
        }
        try
        {
            await turn.Task.WaitAsync(patience, ct);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            lock (gate)
            {
                if (!turn.Task.IsCompleted)
                {
                    place.List!.Remove(place);
                    if (e is OperationCanceledException)
                    {
                        throw;
                    }
                    throw new ServerBusyException($"{Capacity} agent requests were using the store for longer than {patience.TotalSeconds:0} s.");
                }
            }
            // The turn came as the wait ended: it is this call's, and given back when the call ends.
        }
        return new Permit(this);
    }

    /// <summary>A turn given back goes to the first call that keeps a job, else to the first other call if it may take one.</summary>
    private void Release()
    {
        lock (gate)
        {
            var next = keepers.First ?? (free >= Reserved ? others.First : null);
            if (next is null)
            {
                free++;
                return;
            }
            next.List!.Remove(next);
            next.Value.SetResult();
        }
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

    /// <summary>A turn on the store; disposing it gives the turn back, once however often it is disposed.</summary>
    public sealed class Permit(GatewayStoreLane lane) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                lane.Release();
            }
        }
    }
}

/// <summary>
/// The turn on the store of one gateway request (scoped): taken by <see cref="GatewayStoreLaneFilter"/> for the
/// request's store work, handed back while the request waits on a directory (<see cref="AwayAsync"/>).
/// </summary>
public sealed class GatewayTurn(GatewayStoreLane lane) : IDisposable
{
    private GatewayStoreLane.Permit? held;

    public async ValueTask EnterAsync(bool keepsJob, CancellationToken ct) => held = await lane.EnterAsync(ct, keepsJob);

    /// <summary>
    /// Runs <paramref name="work"/> (a directory call: LDAP, Graph, an Autopilot import that may take minutes) without
    /// the turn, and takes one again for the store work after it. The directory's answer (a return ticket made by
    /// resetting a computer's password) must not be lost to a busy lane: the turn back is taken as a call that keeps a job.
    /// </summary>
    public async Task<T> AwayAsync<T>(Func<Task<T>> work, CancellationToken ct)
    {
        if (held is null)
        {
            return await work();
        }
        held.Dispose();
        held = null;
        try
        {
            return await work();
        }
        finally
        {
            held = await lane.EnterAsync(ct, keepsJob: true);
        }
    }

    public void Dispose()
    {
        held?.Dispose();
        held = null;
    }
}

/// <summary>
/// Runs a gateway endpoint's store work inside the lane (every gateway endpoint but the long poll). A call that keeps a
/// job is known to be waiting (<see cref="RenewalsWaiting"/>) from before it queues until it is done, so that the job's
/// lease does not lapse while its renewal waits for a turn.
/// </summary>
public sealed class GatewayStoreLaneFilter(GatewayTurn turn, RenewalsWaiting renewals) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var keepsJob = KeepsJob.On(http);
        using var waiting = keepsJob && Guid.TryParse(http.Request.RouteValues["id"] as string, out var jobId)
            ? renewals.Arrived(jobId, http.Agent().AgentId)
            : null;
        await turn.EnterAsync(keepsJob, http.RequestAborted);
        try
        {
            return await next(context);
        }
        finally
        {
            turn.Dispose();
        }
    }
}

/// <summary>Endpoint metadata: the call keeps a device's job (renews its lease or ends it), so the lane waits longer before turning it away.</summary>
public sealed class KeepsJob
{
    public static KeepsJob Instance { get; } = new();

    public static bool On(HttpContext http) => http.GetEndpoint()?.Metadata.GetMetadata<KeepsJob>() is not null;
}

/// <summary>The server could take no more store work in time: answered 503 <c>ServerBusy</c>, never a 500.</summary>
public sealed class ServerBusyException(string reason) : Exception(reason);
