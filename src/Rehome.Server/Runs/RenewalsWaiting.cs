namespace Rehome.Server.Runs;

/// <summary>
/// The renewals (progress and completion reports) that this server is handling: from when the call reaches the agents'
/// store lane (<see cref="Gateway.GatewayStoreLaneFilter"/>) until it is done, its wait for a turn on the store included.
/// A job's lease does not lapse while a renewal from its holder, sent before the lease ran out, is here: the device is
/// alive and reporting, only the server is slow, and lapsing the job would run it again for the server's slowness (at
/// the start of a 10,000-device run, reports sent well inside their lease waited behind thousands of enrollments until
/// it ran out). Only a renewal that arrived before the lease's end counts, so one call holds a lapse off for at most its
/// own stay, however many a device sends. Not seen here: a call still being authenticated (an agent the server does
/// not remember yet), one turned away busy (it left), one handled by another replica.
/// </summary>
public sealed class RenewalsWaiting(TimeProvider time)
{
    private readonly Lock gate = new();
    private readonly Dictionary<(Guid JobId, Guid AgentId), List<DateTimeOffset>> waiting = [];
    private int count;

    /// <summary>How many renewals are here now (all jobs).</summary>
    public int Count => Volatile.Read(ref count);

    /// <summary>A renewal of <paramref name="jobId"/> from <paramref name="agentId"/> arrived now; disposing the result says it left.</summary>
    public Arrival Arrived(Guid jobId, Guid agentId)
    {
        var at = time.GetUtcNow();
        lock (gate)
        {
            if (!waiting.TryGetValue((jobId, agentId), out var arrivals))
            {
                waiting[(jobId, agentId)] = arrivals = [];
            }
            arrivals.Add(at);
            count++;
        }
        return new Arrival(this, (jobId, agentId), at);
    }

    /// <summary>
    /// Whether a renewal of the job from <paramref name="holder"/> (the lease's holder; another agent's does not count)
    /// that arrived by <paramref name="leaseEnd"/> is here.
    /// </summary>
    public bool Holds(Guid jobId, Guid? holder, DateTimeOffset leaseEnd)
    {
        if (holder is not { } agent)
        {
            return false;
        }
        lock (gate)
        {
            return waiting.TryGetValue((jobId, agent), out var arrivals) && arrivals.Exists(at => at <= leaseEnd);
        }
    }

    private void Left((Guid, Guid) key, DateTimeOffset at)
    {
        lock (gate)
        {
            if (waiting.TryGetValue(key, out var arrivals) && arrivals.Remove(at))
            {
                count--;
                if (arrivals.Count == 0)
                {
                    waiting.Remove(key);
                }
            }
        }
    }

    /// <summary>One renewal's stay; disposing it more than once counts once.</summary>
    public sealed class Arrival(RenewalsWaiting renewals, (Guid, Guid) key, DateTimeOffset at) : IDisposable
    {
        private int left;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref left, 1) == 0)
            {
                renewals.Left(key, at);
            }
        }
    }
}
