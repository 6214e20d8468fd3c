namespace Rehome.Server.Reports;

/// <summary>
/// The run and project reports as one CSV table: every row has the same columns (RFC 4180), its
/// <c>Section</c> says what it is (Run, Jobs, Duration, Area, Failure...), and a section fills the columns it needs,
/// so a spreadsheet can filter by section. Kinds and statuses are written by their API names, durations in seconds.
/// </summary>
public static class ReportCsv
{
    public static readonly string[] Columns =
    [
        "Section", "Project", "Run", "JobKind", "Status", "Count", "Device", "DestinationName", "Area", "Seen", "Changed", "Failed", "NotDone",
        "MinimumSeconds", "MedianSeconds", "MaximumSeconds", "Start", "End", "ErrorCode", "Reason", "Advice", "JobId",
    ];

    public static async Task WriteRunAsync(Stream body, RunReport report, IAsyncEnumerable<FailureRow> failures, CancellationToken ct)
    {
        await using var csv = new CsvRows(body, Columns);
        var run = report.Run;
        await csv.WriteAsync(Row("Run", project: report.ProjectName, run: run.Id, status: Over(report.Jobs.IsOver), count: run.JobCount,
            start: run.StartAt, end: report.End));
        await WriteTotalsAsync(csv, report.Jobs);
        await WriteFailuresAsync(csv, failures, ct);
    }

    public static async Task WriteProjectAsync(Stream body, ProjectReport report, IAsyncEnumerable<FailureRow> failures, CancellationToken ct)
    {
        await using var csv = new CsvRows(body, Columns);
        await csv.WriteAsync(Row("Project", project: report.Name, count: report.MappingCount));
        foreach (var m in report.Mappings)
        {
            await csv.WriteAsync(Row("Mappings", kind: m.Stage?.ToString(), status: m.Status?.ToString() ?? "NotStarted", count: m.Count));
        }
        foreach (var line in report.Runs)
        {
            await csv.WriteAsync(Row("Run", run: line.Run.Id, status: Over(line.End is not null), count: line.Run.JobCount, start: line.Run.StartAt, end: line.End));
            foreach (var (status, count) in line.ByStatus)
            {
                await csv.WriteAsync(Row("RunJobs", run: line.Run.Id, status: status.ToString(), count: count));
            }
        }
        await WriteTotalsAsync(csv, report.LatestJobs);
        await WriteFailuresAsync(csv, failures, ct);
    }

    private static async Task WriteTotalsAsync(CsvRows csv, JobTotals totals)
    {
        foreach (var c in totals.ByKindAndStatus)
        {
            await csv.WriteAsync(Row("Jobs", kind: c.Kind.ToString(), status: c.Status.ToString(), count: c.Count));
        }
        foreach (var d in totals.Durations)
        {
            await csv.WriteAsync(Row("Duration", kind: d.Kind.ToString(), count: d.Count, durations: d));
        }
        foreach (var a in totals.Areas)
        {
            await csv.WriteAsync(Row("Area", area: a));
        }
    }

    private static async Task WriteFailuresAsync(CsvRows csv, IAsyncEnumerable<FailureRow> failures, CancellationToken ct)
    {
        await foreach (var f in failures.WithCancellation(ct))
        {
            await csv.WriteAsync(Row("Failure", run: f.RunId, kind: f.Kind.ToString(), status: f.Status.ToString(), failure: f, start: f.StartedAt, end: f.FinishedAt));
        }
    }

    private static string Over(bool over) => over ? "Over" : "NotOver";

    /// <summary>One row in <see cref="Columns"/> order, each section filling its own cells.</summary>
    private static string?[] Row(
        string section, string? project = null, Guid? run = null, string? kind = null, string? status = null, long? count = null,
        AreaTotal? area = null, DurationStats? durations = null, DateTimeOffset? start = null, DateTimeOffset? end = null, FailureRow? failure = null) =>
    [
        section, project, run?.ToString(), kind, status, count is { } n ? CsvRows.Number(n) : null,
        failure?.SourceDevice, failure?.DestinationName,
        area?.Area, Number(area?.Seen), Number(area?.Changed), Number(area?.Failed), Number(area?.NotDone),
        CsvRows.Number(durations?.Minimum.TotalSeconds), CsvRows.Number(durations?.Median.TotalSeconds), CsvRows.Number(durations?.Maximum.TotalSeconds),
        CsvRows.Time(start), CsvRows.Time(end), failure?.ErrorCode, failure?.Reason, failure?.Advice, failure?.JobId.ToString(),
    ];

    private static string? Number(long? value) => value is { } n ? CsvRows.Number(n) : null;
}
