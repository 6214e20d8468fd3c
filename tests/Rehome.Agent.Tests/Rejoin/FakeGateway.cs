using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Rehome.Protocol;

namespace Rehome.Agent.Tests.Rejoin;

/// <summary>
/// The server's side of /agent/v1 for one device, in memory: renewals, logs and completions are kept; the return
/// ticket and packages are answered as configured; SIDs map by swapping the domain part (source → destination).
/// </summary>
public sealed partial class FakeGateway : HttpMessageHandler
{
    public const string SourceDomainSid = "S-1-5-21-1004336348-1177238915-682003330";
    public const string DestinationDomainSid = "S-1-5-21-2222222222-3333333333-444444444";

    public ConcurrentQueue<CompletionReport> Completions { get; } = new();

    public ConcurrentQueue<string> Calls { get; } = new();

    /// <summary>The lease token of every log chunk sent.</summary>
    public ConcurrentQueue<Guid> LogLeaseTokens { get; } = new();

    /// <summary>Answers the return-ticket request; null: 422 (the server cannot make one).</summary>
    public Func<ReturnTicketRequest, DestinationJoin?> ReturnTicket { get; set; } = request => new DestinationJoin
    {
        Kind = request.JoinType switch
        {
            DeviceJoinType.EntraId => JoinKind.EntraId,
            DeviceJoinType.HybridEntraId => JoinKind.HybridIdentity,
            _ => JoinKind.ActiveDirectory,
        },
        Offline = true,
        DomainDnsName = request.DomainName,
        TenantId = request.TenantId,
        ComputerName = request.ComputerName,
        ProvisioningData = Convert.ToBase64String("return ticket"u8.ToArray()),
    };

    public byte[] Package { get; set; } = "provisioning package"u8.ToArray();

    /// <summary>From the first progress report of this step on, every job call answers 409 (the server took the job back).</summary>
    public string? LoseLeaseAtStep { get; set; }

    private volatile bool leaseLost;

    /// <summary>How many log uploads are answered 503 (a server too busy for them) before logs are taken again.</summary>
    public int BusyLogAnswers { get; set; }

    private int logAnswers;

    /// <summary>The progress answers take the log lines a report carries, as a server that knows them does; unset: an older server's, which ignores them.</summary>
    public bool TakesLogLines { get; set; }

    /// <summary>Every log line that reached the fake server, by its number in the job's log, and whether it came with a progress report.</summary>
    public ConcurrentDictionary<long, (string Text, bool WithReport)> LoggedLines { get; } = new();

    /// <summary>The progress answers ask the agent to stop once this is set.</summary>
    public bool StopRequested { get; set; }

    /// <summary>The pace the progress answers ask for (a busy server's), or null for the agent's own.</summary>
    public int? ReportSeconds { get; set; }

    /// <summary>Every item result the progress reports carried, in the order they came.</summary>
    public ConcurrentQueue<ItemResult> ReportedItems { get; } = new();

    /// <summary>
    /// Answers a progress report in the test's stead when it returns an answer (a refusal, a busy server); null lets the
    /// report be taken as usual. The items of a report answered here are not counted as reported.
    /// </summary>
    public Func<ProgressReport, HttpResponseMessage?>? AnswerProgress { get; set; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var path = request.RequestUri!.AbsolutePath;
        var match = JobPath().Match(path);
        var action = match.Success ? match.Groups["action"].Value : path;
        Calls.Enqueue(action);
        ProgressReport? report = null;
        if (action == "progress")
        {
            report = (await request.Content!.ReadFromJsonAsync<ProgressReport>(AgentProtocol.JsonOptions, cancellationToken))!;
            if (AnswerProgress?.Invoke(report) is { } answered)
            {
                return answered;
            }
            leaseLost |= report.Step == LoseLeaseAtStep;
            if (!leaseLost)
            {
                foreach (var item in report.Items ?? [])
                {
                    ReportedItems.Enqueue(item);
                }
                if (TakesLogLines)
                {
                    Keep(report.LogSequence, report.LogLines, withReport: true);
                }
            }
        }
        if (leaseLost && match.Success)
        {
            return new HttpResponseMessage(HttpStatusCode.Conflict);
        }
        switch (action)
        {
            case "progress" when TakesLogLines:
                return Json(new ProgressAnswer(StopRequested, ReportSeconds, report!.LogLines.Count > 0 ? report.LogLines.Count : null));
            case "progress":
                return Json(new ProgressAnswer(StopRequested, ReportSeconds));
            case "log" when Interlocked.Increment(ref logAnswers) <= BusyLogAnswers:
                return new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
            case "log":
                var chunk = (await request.Content!.ReadFromJsonAsync<LogChunk>(AgentProtocol.JsonOptions, cancellationToken))!;
                LogLeaseTokens.Enqueue(chunk.LeaseToken);
                Keep(chunk.Sequence, chunk.Lines, withReport: false);
                return new HttpResponseMessage(HttpStatusCode.NoContent);
            case "complete":
                Completions.Enqueue((await request.Content!.ReadFromJsonAsync<CompletionReport>(AgentProtocol.JsonOptions, cancellationToken))!);
                return new HttpResponseMessage(HttpStatusCode.NoContent);
            case "return-ticket":
                var ask = (await request.Content!.ReadFromJsonAsync<ReturnTicketRequest>(AgentProtocol.JsonOptions, cancellationToken))!;
                return ReturnTicket(ask) is { } ticket
                    ? Json(ticket)
                    : new HttpResponseMessage(HttpStatusCode.UnprocessableEntity) { Content = new StringContent("{\"code\":\"ReturnTicketUnavailable\"}") };
            case "sid-map":
                var sids = (await request.Content!.ReadFromJsonAsync<SidMapRequest>(AgentProtocol.JsonOptions, cancellationToken))!.Sids;
                return Json(new SidMapAnswer(
                    [.. sids.Where(s => s.StartsWith(SourceDomainSid, StringComparison.Ordinal)).Select(s => new SidPair(s, DestinationDomainSid + s[SourceDomainSid.Length..]))],
                    [.. sids.Where(s => !s.StartsWith(SourceDomainSid, StringComparison.Ordinal)).Select(s => new UnmappedSid(s, "not a source identity"))]));
            default:
                if (action.StartsWith("package/", StringComparison.Ordinal))
                {
                    return new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(Package) };
                }
                return new HttpResponseMessage(HttpStatusCode.NotFound);
        }
    }

    private void Keep(long sequence, IReadOnlyList<LogLine> lines, bool withReport)
    {
        for (var i = 0; i < lines.Count; i++)
        {
            LoggedLines.TryAdd(sequence + i, (lines[i].Text, withReport));
        }
    }

    private static HttpResponseMessage Json<T>(T value) => new(HttpStatusCode.OK) { Content = JsonContent.Create(value, options: AgentProtocol.JsonOptions) };

    [GeneratedRegex("^/agent/v1/jobs/[0-9a-f-]+/(?<action>.+)$")]
    private static partial Regex JobPath();
}
