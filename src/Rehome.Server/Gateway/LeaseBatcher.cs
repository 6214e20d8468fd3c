using System.Threading.Channels;
using Rehome.Protocol;
using Rehome.Server.Runs;

namespace Rehome.Server.Gateway;

/// <summary>
/// Gathers the polls that want a job at the same moment (a run of thousands of mappings wakes thousands of
/// polls at once) and leases for all of them in one transaction, then builds their assignments with one query.
/// One writer instead of thousands contending for the store's write lock.
/// </summary>
public sealed class LeaseBatcher : IDisposable
{
    public const int MaxBatch = 500;

    private readonly Channel<Request> requests = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IServiceScopeFactory scopes;
    private readonly ReportPace pace;
    private readonly ILogger<LeaseBatcher> logger;
    private readonly CancellationTokenSource stopping = new();
    private readonly Task loop;

    public LeaseBatcher(IServiceScopeFactory scopes, ReportPace pace, ILogger<LeaseBatcher> logger)
    {
        this.scopes = scopes;
        this.pace = pace;
        this.logger = logger;
        loop = Task.Run(RunAsync);
    }

    /// <summary>
    /// The mapping's next job, leased to the agent, with what the device needs; null when none is startable.
    /// <paramref name="previousPollUnanswered"/>: the agent says its previous poll got no answer (<see cref="LeaseRequest"/>).
    /// </summary>
    public async Task<JobAssignment?> LeaseAsync(Guid mappingId, Guid agentId, CancellationToken ct, bool previousPollUnanswered = false)
    {
        var request = new Request(new LeaseRequest(mappingId, agentId, previousPollUnanswered));
        // Unbounded: the write never waits, so it takes no token.
        requests.Writer.TryWrite(request);
        try
        {
            return await request.Answer.Task.WaitAsync(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The poll went away (its agent hung up) while its batch was leasing: the job it gets reaches nobody.
            _ = GiveBackAsync(request);
            throw;
        }
    }

    /// <summary>
    /// Gives back the job leased for a poll that went away before it was answered: left alone, it would wait for a
    /// lease nobody knows of to lapse and then count an attempt the device never made.
    /// </summary>
    private async Task GiveBackAsync(Request request)
    {
        try
        {
            if (await request.Answer.Task is not { } unheard)
            {
                return;
            }
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<JobTransitions>()
                .GiveBackUnheardLeaseAsync(unheard.JobId, request.Claim.AgentId, unheard.LeaseToken, stopping.Token);
        }
        catch (OperationCanceledException)
        {
            // The server stops; the lease lapses by itself.
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Giving back job {JobId}'s lease, whose poll went away, failed; it lapses by itself", request.Answer.Task.IsCompletedSuccessfully ? request.Answer.Task.Result?.JobId : null);
        }
    }

    private async Task RunAsync()
    {
        var batch = new List<Request>(MaxBatch);
        try
        {
            while (await requests.Reader.WaitToReadAsync(stopping.Token))
            {
                batch.Clear();
                while (batch.Count < MaxBatch && requests.Reader.TryRead(out var request))
                {
                    batch.Add(request);
                }
                try
                {
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    await LeaseAsync(batch);
                    logger.LogDebug("Leased for {Count} polls in {Milliseconds:F1} ms", batch.Count, clock.Elapsed.TotalMilliseconds);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "Leasing jobs for {Count} polls failed", batch.Count);
                    foreach (var request in batch)
                    {
                        request.Answer.TrySetException(e);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The server stops.
        }
    }

    private async Task LeaseAsync(List<Request> batch)
    {
        await using var scope = scopes.CreateAsyncScope();
        var transitions = scope.ServiceProvider.GetRequiredService<JobTransitions>();
        var leased = await transitions.LeaseNextManyAsync([.. batch.Select(r => r.Claim)], pace.LeaseDuration, stopping.Token);
        var assignments = leased.Count == 0
            ? []
            : (await scope.ServiceProvider.GetRequiredService<AssignmentBuilder>().BuildManyAsync([.. leased.Values], stopping.Token))
                .ToDictionary(a => leased.First(l => l.Value.Id == a.JobId).Key);
        foreach (var request in batch)
        {
            // Two polls of one mapping in a batch: the first gets the job, the other looks again next time.
            request.Answer.TrySetResult(assignments.Remove(request.Claim.MappingId, out var assignment) ? assignment : null);
        }
    }

    public void Dispose()
    {
        stopping.Cancel();
        requests.Writer.TryComplete();
        try
        {
            loop.Wait(Hosting.ServerTimings.LeaseBatcherStopWait);
        }
        catch (AggregateException)
        {
            // Ended by the cancellation.
        }
        stopping.Dispose();
    }

    private sealed record Request(LeaseRequest Claim)
    {
        public TaskCompletionSource<JobAssignment?> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
