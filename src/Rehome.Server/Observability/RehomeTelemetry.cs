using System.Diagnostics;
using System.Diagnostics.Metrics;
using Rehome.Core.Runs;

namespace Rehome.Server.Observability;

/// <summary>
/// The server's metrics and traces, in one place so that their names stay one vocabulary: every count a
/// dashboard shows is recorded here by the code that makes it happen (the run engine, the job transitions, the
/// gateway, the directories). Exported in the Prometheus format (see <c>MetricsEndpoint</c>); the names follow
/// OpenTelemetry's conventions (dots, units in the instrument, not the name).
/// </summary>
public sealed class RehomeTelemetry : IDisposable
{
    /// <summary>The meter's and the activity source's name: what an exporter subscribes to.</summary>
    public const string Name = "Rehome.Server";

    private readonly Meter meter;
    private readonly Counter<long> runsStarted;
    private readonly Counter<long> jobsCreated;
    private readonly Counter<long> jobsEnded;
    private readonly Counter<long> leasesGranted;
    private readonly Counter<long> leasesLapsed;
    private readonly Histogram<double> pollDuration;
    private readonly Counter<long> directoryCalls;

    public RehomeTelemetry(IMeterFactory meters)
    {
        meter = meters.Create(Name);
        runsStarted = meter.CreateCounter<long>("rehome.runs.started", "{run}", "Runs started (re-runs and reverts included).");
        jobsCreated = meter.CreateCounter<long>("rehome.jobs.created", "{job}", "Jobs written by run starts.");
        jobsEnded = meter.CreateCounter<long>("rehome.jobs.ended", "{job}", "Jobs that reached a final status, by status.");
        leasesGranted = meter.CreateCounter<long>("rehome.leases.granted", "{lease}", "Jobs handed to an agent.");
        leasesLapsed = meter.CreateCounter<long>("rehome.leases.lapsed", "{lease}", "Leases that ran out without a renewal, by what became of the job.");
        pollDuration = meter.CreateHistogram<double>("rehome.gateway.poll.duration", "s", "How long an agent's poll took to answer, by whether it brought a job.");
        directoryCalls = meter.CreateCounter<long>("rehome.directory.calls", "{call}", "Calls to a directory (AD, Entra ID), by operation and outcome.");
    }

    /// <summary>Traces of a run's start, a lease, a directory call: one source for the server.</summary>
    public static ActivitySource Traces { get; } = new(Name);

    /// <summary>The meter, for gauges observed elsewhere (jobs by status, agents online).</summary>
    public Meter Meter => meter;

    public void RunStarted(int jobs, bool rerun)
    {
        runsStarted.Add(1, new KeyValuePair<string, object?>("rehome.run.rerun", rerun));
        jobsCreated.Add(jobs);
    }

    public void JobEnded(JobStatus status, JobKind kind) =>
        jobsEnded.Add(1, new("rehome.job.status", status.ToString()), new("rehome.job.kind", kind.ToString()));

    public void LeasesGranted(int count)
    {
        if (count > 0)
        {
            leasesGranted.Add(count);
        }
    }

    /// <param name="outcome">What became of the job: its new status.</param>
    public void LeaseLapsed(JobStatus outcome) => leasesLapsed.Add(1, new KeyValuePair<string, object?>("rehome.job.status", outcome.ToString()));

    public void PollAnswered(TimeSpan duration, bool broughtJob) =>
        pollDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("rehome.poll.job", broughtJob));

    /// <param name="operation">What was asked (for example "ProvisionComputer", "ImportAutopilotDevice").</param>
    /// <param name="outcome">"ok", or the failure's class (for example "unreachable", "refused").</param>
    public void DirectoryCall(string operation, string outcome) =>
        directoryCalls.Add(1, new("rehome.directory.operation", operation), new("rehome.directory.outcome", outcome));

    public void Dispose() => meter.Dispose();
}
