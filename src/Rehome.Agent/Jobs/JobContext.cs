using System.Collections.Concurrent;
using Rehome.Agent.Journal;
using Rehome.Agent.Platform;
using Rehome.Agent.Polling;
using Rehome.Protocol;

namespace Rehome.Agent.Jobs;

/// <summary>Everything a step works with: the job, its journal and log, the device, the server.</summary>
public sealed class JobContext(
    JobJournal journal, JobLog log, IDevicePlatform platform, IUserSession session, GatewayClient gateway, TimeProvider time, CancellationToken cancellation)
{
    private readonly ConcurrentQueue<ItemResult> pendingItems = new();
    private readonly ConcurrentDictionary<ReaclArea, AreaCount> areaCounts = new();
    private int itemsDone;
    private int itemsTotal;
    private int itemsChanged;
    // Failures reported one by one before a restart count after it.
    private int itemsFailed = int.TryParse(journal.Get(FailedItemsKey), System.Globalization.CultureInfo.InvariantCulture, out var failed) ? failed : 0;

    public JobJournal Journal { get; } = journal;

    public JobLog Log { get; } = log;

    public IDevicePlatform Platform { get; } = platform;

    public IUserSession Session { get; } = session;

    public GatewayClient Gateway { get; } = gateway;

    /// <summary>Faults injected at points inside a step (a simulated device's crash in the middle of an area, say); none on a real device.</summary>
    public IStepFaults? Faults { get; init; }

    public TimeProvider Time { get; } = time;

    /// <summary>Cancelled when the job must stop working (a stop request, a lost lease, the agent shutting down).</summary>
    public CancellationToken Cancellation { get; } = cancellation;

    /// <summary>The assignment; its lease token is the current one (a resumed job gets a new token).</summary>
    public JobAssignment Assignment => Journal.Record.Assignment;

    public Guid JobId => Assignment.JobId;

    public string Step { get; set; } = "";

    public string? Message { get; set; }

    public int ItemsDone => Volatile.Read(ref itemsDone);

    public int ItemsTotal => Volatile.Read(ref itemsTotal);

    public int ItemsChanged => Volatile.Read(ref itemsChanged);

    public int ItemsFailed => Volatile.Read(ref itemsFailed);

    public void SetProgress(long done, long total, long changed, long failed)
    {
        Volatile.Write(ref itemsDone, (int)Math.Min(done, int.MaxValue));
        Volatile.Write(ref itemsTotal, (int)Math.Min(total, int.MaxValue));
        Volatile.Write(ref itemsChanged, (int)Math.Min(changed, int.MaxValue));
        Volatile.Write(ref itemsFailed, (int)Math.Min(failed, int.MaxValue));
    }

    /// <summary>
    /// Calls the server for the step, waiting out network outages (the device may be offline for a while; if the
    /// outage outlasts the lease, the job is cancelled and resumes from the journal when the server hands it back).
    /// </summary>
    public Task<T> CallServerAsync<T>(Func<CancellationToken, Task<T>> call) =>
        NetworkRetry.UntilAnsweredAsync(call, Time, AgentTimings.JobCallRetry,
            (e, _) => Message = "Waiting for the server: " + e.Message, Cancellation);

    private const string FailedItemsKey = "job.failedItems";

    /// <summary>
    /// Records an item that failed in a job that counts its failures one by one (a rejoin's carry-overs); the count
    /// is journaled, so failures before a restart still make the job end with Exceptions.
    /// </summary>
    public void ReportFailure(ItemResult item)
    {
        Report(item);
        var failed = (int.TryParse(Journal.Get(FailedItemsKey), System.Globalization.CultureInfo.InvariantCulture, out var before) ? before : 0) + 1;
        Journal.Set(FailedItemsKey, failed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Volatile.Write(ref itemsFailed, Math.Max(Volatile.Read(ref itemsFailed), failed));
    }

    private const string AreaKeyPrefix = "area.";

    /// <summary>
    /// Sets one area's Re-ACL counts, sent with every progress report and the completion; a final count is
    /// journaled, so the areas done before a restart are still reported after it.
    /// </summary>
    public void SetAreaCount(AreaCount count, bool final)
    {
        areaCounts[count.Area] = count;
        if (final)
        {
            Journal.Set(AreaKeyPrefix + count.Area, System.Text.Json.JsonSerializer.Serialize(count, AgentProtocol.JsonOptions));
        }
    }

    /// <summary>The area's final count when it was journaled (the area is done, before a restart or not); null otherwise.</summary>
    public AreaCount? FinalAreaCount(ReaclArea area) =>
        Journal.Get(AreaKeyPrefix + area) is { } journaled ? System.Text.Json.JsonSerializer.Deserialize<AreaCount>(journaled, AgentProtocol.JsonOptions) : null;

    /// <summary>
    /// Set when this context is a finished job's, seen by the job that reverts it: the steps' undo says here what it
    /// restored per area, and the revert reports it as its own (the old job's journal keeps the old job's counts).
    /// </summary>
    public Action<AreaCount>? Restored { get; init; }

    /// <summary>What an undo restored in one area: the revert's report when there is one, the log in any case.</summary>
    public void ReportRestored(AreaCount count)
    {
        Restored?.Invoke(count);
        Log.Information($"{count.Area}: {count.Changed} items restored, {count.Failed} could not be."
            + (count.Problem is null ? "" : $" {count.Problem}"));
    }

    /// <summary>Every area's counts so far, in area order.</summary>
    public IReadOnlyList<AreaCount> AreaCounts
    {
        get
        {
            foreach (var (key, value) in Journal.Record.Data)
            {
                if (key.StartsWith(AreaKeyPrefix, StringComparison.Ordinal)
                    && System.Text.Json.JsonSerializer.Deserialize<AreaCount>(value, AgentProtocol.JsonOptions) is { } journaled)
                {
                    areaCounts.TryAdd(journaled.Area, journaled);
                }
            }
            return [.. areaCounts.Values.OrderBy(a => a.Area).Take(AreaCount.MaxAreas)];
        }
    }

    /// <summary>Records an item result to send with the next progress report.</summary>
    public void Report(ItemResult item) => pendingItems.Enqueue(item);

    internal List<ItemResult> TakeItems(int max)
    {
        var items = new List<ItemResult>();
        while (items.Count < max && pendingItems.TryDequeue(out var item))
        {
            items.Add(item);
        }
        return items;
    }

    internal void ReturnItems(IEnumerable<ItemResult> items)
    {
        foreach (var item in items)
        {
            pendingItems.Enqueue(item);
        }
    }
}
