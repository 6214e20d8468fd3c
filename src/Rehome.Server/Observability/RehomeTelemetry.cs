using System.Diagnostics;
using System.Diagnostics.Metrics;
using Rehome.Core.Runs;
using Rehome.Server.Runs;

namespace Rehome.Server.Observability;

/// <summary>
/// The server's metrics and traces, in one place so that their names stay one vocabulary: every count a
/// dashboard shows is recorded here by the code that makes it happen (the run engine, the job transitions, the
/// gateway, the directories), each with one line at its call site. Exported in the Prometheus format at
/// <c>/metrics</c> (see <see cref="ObservabilityServiceCollectionExtensions"/>); the names follow OpenTelemetry's
/// conventions (dots, units in the instrument, not the name). docs/observability.md lists them all.
/// </summary>
public sealed class RehomeTelemetry : IDisposable
{
    /// <summary>The meter's and the activity source's name: what an exporter subscribes to.</summary>
    public const string Name = "Rehome.Server";

    /// <summary>Span tags: the ids a trace is searched by.</summary>
    public const string RunIdTag = "rehome.run.id";
    public const string ProjectIdTag = "rehome.project.id";
    public const string JobIdTag = "rehome.job.id";
    public const string MappingIdTag = "rehome.mapping.id";
    public const string AgentIdTag = "rehome.agent.id";

    /// <summary>Buckets from 5 ms to a long poll's minute (the SDK's default buckets are for milliseconds).</summary>
    private static readonly InstrumentAdvice<double> Seconds = new() { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] };

    private readonly Meter meter;
    private readonly Counter<long> runsStarted;
    private readonly Counter<long> jobsCreated;
    private readonly Counter<long> jobsEnded;
    private readonly Counter<long> leasesGranted;
    private readonly Counter<long> leasesLapsed;
    private readonly Counter<long> leasesSentAgain;
    private readonly Histogram<double> leaseBatchDuration;
    private readonly Histogram<double> pollDuration;
    private readonly Counter<long> directoryCalls;
    private readonly Histogram<double> directoryCallDuration;

    public RehomeTelemetry(IMeterFactory meters, StoreGauges store)
    {
        meter = meters.Create(Name);
        runsStarted = meter.CreateCounter<long>("rehome.runs.started", "{run}", "Runs started, by how (start, rerun, revert).");
        jobsCreated = meter.CreateCounter<long>("rehome.jobs.created", "{job}", "Jobs written by run starts.");
        jobsEnded = meter.CreateCounter<long>("rehome.jobs.ended", "{job}", "Jobs ended by their agent or by the lapse of their last lease, by status and kind.");
        leasesGranted = meter.CreateCounter<long>("rehome.leases.granted", "{lease}", "Jobs handed to an agent.");
        leasesLapsed = meter.CreateCounter<long>("rehome.leases.lapsed", "{lease}", "Leases that ran out without a renewal, by what became of the job.");
        leasesSentAgain = meter.CreateCounter<long>("rehome.leases.sent_again", "{lease}", "Leases sent again to their agent, whose poll had not received them.");
        leaseBatchDuration = meter.CreateHistogram<double>("rehome.leases.batch.duration", "s", "How long one lease batch (the polls that woke together) took in the store.", tags: null, advice: Seconds);
        pollDuration = meter.CreateHistogram<double>("rehome.gateway.poll.duration", "s", "How long an agent's poll took to answer, by whether it brought a job.", tags: null, advice: Seconds);
        directoryCalls = meter.CreateCounter<long>("rehome.directory.calls", "{call}", "Calls to a directory (AD, Entra ID), by operation and outcome.");
        directoryCallDuration = meter.CreateHistogram<double>("rehome.directory.call.duration", "s", "How long a directory call took, by operation.", tags: null, advice: Seconds);
        meter.CreateObservableGauge("rehome.jobs", store.JobsByStatus, "{job}", "Jobs in the store by status (read from the store at most once per StoreReadInterval).");
        meter.CreateObservableGauge("rehome.agents.online", store.AgentsOnline, "{agent}", "Active agents heard from within the gateway's online window, by any replica.");
    }

    /// <summary>Traces of a run's start, a lease batch, a destination preparation, a directory call: one source for the server.</summary>
    public static ActivitySource Traces { get; } = new(Name);

    /// <summary>The meter, for instruments observed elsewhere.</summary>
    public Meter Meter => meter;

    /// <summary>Opens the span of a run start (<paramref name="how"/>: start, rerun, revert); <see cref="RunStart.Started"/> counts it.</summary>
    public RunStart StartRun(Guid projectId, string how)
    {
        var span = Traces.StartActivity("rehome.run.start");
        span?.SetTag(ProjectIdTag, projectId).SetTag("rehome.run.how", how);
        return new RunStart(this, span, how);
    }

    /// <summary>Opens the span of a lease batch for <paramref name="polls"/> polls; disposing it records its duration.</summary>
    public LeaseBatch StartLeaseBatch(int polls)
    {
        var span = Traces.StartActivity("rehome.lease.batch");
        span?.SetTag("rehome.lease.polls", polls);
        return new LeaseBatch(this, span);
    }

    /// <summary>
    /// The span of one engine round of destination preparation for <paramref name="jobs"/> claimed jobs (none
    /// when there are none: the engine ticks every second); the directory calls it makes are its children.
    /// </summary>
    public static Activity? StartDestinationPreparation(int jobs) =>
        jobs == 0 ? null : Traces.StartActivity("rehome.destination.preparation")?.SetTag("rehome.destination.jobs", jobs);

    public void JobEnded(JobStatus status, JobKind kind) =>
        jobsEnded.Add(1, new("rehome.job.status", status.ToString()), new("rehome.job.kind", kind.ToString()));

    /// <param name="outcome">What became of the job: its new status.</param>
    public void LeaseLapsed(JobStatus outcome) => leasesLapsed.Add(1, new KeyValuePair<string, object?>("rehome.job.status", outcome.ToString()));

    public void PollAnswered(TimeSpan duration, bool broughtJob) =>
        pollDuration.Record(duration.TotalSeconds, broughtJob ? PollBroughtJob : PollBroughtNothing);

    // Boxed once: a tag's value is an object, and every poll records one.
    private static readonly KeyValuePair<string, object?> PollBroughtJob = new("rehome.poll.job", true);
    private static readonly KeyValuePair<string, object?> PollBroughtNothing = new("rehome.poll.job", false);

    /// <summary>
    /// Makes a directory call in a span tagged with the job and mapping, and counts it by operation and outcome
    /// (<see cref="DirectoryOutcomes"/>). Exceptions pass through unchanged for the caller's back-off.
    /// </summary>
    public async Task<T> DirectoryCallAsync<T>(string operation, Guid jobId, Guid? mappingId, Func<Task<T>> call)
    {
        using var span = Traces.StartActivity("rehome.directory.call");
        span?.SetTag("rehome.directory.operation", operation).SetTag(JobIdTag, jobId).SetTag(MappingIdTag, mappingId);
        var started = Stopwatch.GetTimestamp();
        var outcome = DirectoryOutcomes.Failed;
        try
        {
            var result = await call();
            outcome = DirectoryOutcomes.Of(result);
            return result;
        }
        catch (Exception e)
        {
            outcome = DirectoryOutcomes.Of(e);
            span?.AddException(e);
            throw;
        }
        finally
        {
            span?.SetTag("rehome.directory.outcome", outcome);
            if (outcome != DirectoryOutcomes.Ok)
            {
                span?.SetStatus(ActivityStatusCode.Error, outcome);
            }
            directoryCalls.Add(1, new("rehome.directory.operation", operation), new("rehome.directory.outcome", outcome));
            directoryCallDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("rehome.directory.operation", operation));
        }
    }

    public void Dispose() => meter.Dispose();

    /// <summary>A run start under way: its span, closed when disposed.</summary>
    public sealed class RunStart(RehomeTelemetry telemetry, Activity? span, string how) : IDisposable
    {
        /// <summary>Counts the run (when one was written: not for a preview or a refusal) and tags the span with its id.</summary>
        public void Started(RunStartOutcome outcome)
        {
            span?.SetTag("rehome.run.jobs", outcome.JobCount).SetTag("rehome.run.refusals", outcome.Refusals.Count);
            if (outcome.Run is not { } run)
            {
                span?.SetTag("rehome.run.refused", outcome.RunRefused?.Rule ?? "preview");
                return;
            }
            span?.SetTag(RunIdTag, run.Id);
            telemetry.runsStarted.Add(1, new KeyValuePair<string, object?>("rehome.run.how", how));
            telemetry.jobsCreated.Add(outcome.JobCount);
        }

        public void Dispose() => span?.Dispose();
    }

    /// <summary>A lease batch under way: its span and clock.</summary>
    public sealed class LeaseBatch(RehomeTelemetry telemetry, Activity? span) : IDisposable
    {
        private readonly long started = Stopwatch.GetTimestamp();

        /// <summary>
        /// Counts the leases granted (job by mapping; <paramref name="sentAgain"/> of them were leases sent again, counted
        /// apart); each is an event on the span with its job, mapping and agent.
        /// </summary>
        public void Granted(IReadOnlyDictionary<Guid, Guid> jobByMapping, IReadOnlyList<LeaseRequest> requests, int sentAgain)
        {
            telemetry.leasesGranted.Add(jobByMapping.Count - sentAgain);
            telemetry.leasesSentAgain.Add(sentAgain);
            span?.SetTag("rehome.lease.granted", jobByMapping.Count);
            if (span is { IsAllDataRequested: true })
            {
                foreach (var (mappingId, agentId, _) in requests.DistinctBy(r => r.MappingId).Where(r => jobByMapping.ContainsKey(r.MappingId)))
                {
                    span.AddEvent(new ActivityEvent("rehome.lease", tags: new ActivityTagsCollection
                    {
                        [JobIdTag] = jobByMapping[mappingId],
                        [MappingIdTag] = mappingId,
                        [AgentIdTag] = agentId,
                    }));
                }
            }
        }

        public void Dispose()
        {
            telemetry.leaseBatchDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
            span?.Dispose();
        }
    }
}
