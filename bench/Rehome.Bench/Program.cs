using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rehome.Server.Store;

// Store benchmarks of issue 2: a run of 50,000 mappings × 5 jobs from request to committed jobs, and a page
// of the mapping list at 100,000 mappings, on SQLite and (when REHOME_BENCH_POSTGRES is set) PostgreSQL.
// Usage: dotnet run -c Release --project bench/Rehome.Bench -- [sqlite|postgres|all] [mappings-per-run] [project-size]
if (args.ElementAtOrDefault(0) == "list") { return await ListBench.RunAsync(args[1..]); } // issue 16's list figures: ListBench.cs
var which = args.ElementAtOrDefault(0) ?? "all";
var runSize = int.Parse(args.ElementAtOrDefault(1) ?? "50000", CultureInfo.InvariantCulture);
var projectSize = int.Parse(args.ElementAtOrDefault(2) ?? "100000", CultureInfo.InvariantCulture);
var postgres = Environment.GetEnvironmentVariable("REHOME_BENCH_POSTGRES");
Console.WriteLine($"Rehome.Bench {which} {runSize:N0} {projectSize:N0}; {Environment.ProcessorCount} cores; load average {BenchServer.LoadAverage()} at start; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");

if (which is "sqlite" or "all")
{
    await BenchAsync("SQLite", StoreProvider.Sqlite, null);
}
if (which is "postgres" or "all")
{
    if (postgres is null)
    {
        Console.WriteLine("PostgreSQL: skipped (set REHOME_BENCH_POSTGRES, or use bench/run.sh which starts one).");
    }
    else
    {
        await BenchAsync("PostgreSQL", StoreProvider.PostgreSql, postgres);
    }
}
Console.WriteLine($"Load average {BenchServer.LoadAverage()} at end");
return 0;

async Task BenchAsync(string label, StoreProvider provider, string? adminConnection)
{
    await using var server = await BenchServer.StartAsync(provider, adminConnection, "rehome_bench_",
        logging => logging.AddFilter("Rehome.Server.Runs.RunEngine", LogLevel.Information));
    var (app, http) = (server.App, server.Http);
    var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);

    var projectId = await CreateProjectAsync(http);
    var clock = Stopwatch.StartNew();
    var csv = new StringBuilder("SourceDevice,DestinationName,DestinationOU,PrimaryUser,DestinationUser\n");
    for (var i = 0; i < projectSize; i++)
    {
        csv.Append(CultureInfo.InvariantCulture, $"B{i:D7},,,CONTOSO\\u{i},u{i}@fabrikam.example\n");
    }
    (await http.PostAsync($"/api/v1/projects/{projectId}/mappings/import", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"))).EnsureSuccessStatusCode();
    var importSeconds = clock.Elapsed.TotalSeconds;

    // Mapping list: first page, a deep page, a status filter, a text search: the median of 20 requests each.
    var pages = new Dictionary<string, string>
    {
        ["first page (100 rows)"] = $"/api/v1/projects/{projectId}/mappings?pageSize=100",
        ["page 500 (100 rows)"] = $"/api/v1/projects/{projectId}/mappings?pageSize=100&page=500",
        ["filter status=NotStarted"] = $"/api/v1/projects/{projectId}/mappings?pageSize=100&status=NotStarted",
        ["search 'u4242@'"] = $"/api/v1/projects/{projectId}/mappings?pageSize=100&search=u4242%40",
        ["sort -destinationName"] = $"/api/v1/projects/{projectId}/mappings?pageSize=100&sort=-destinationName&page=20",
    };
    async Task<Dictionary<string, double>> MedianTimesAsync(Dictionary<string, string> urls)
    {
        var times = new Dictionary<string, double>();
        foreach (var (name, url) in urls)
        {
            (await http.GetAsync(url)).EnsureSuccessStatusCode();
            var samples = new List<double>();
            for (var i = 0; i < 20; i++)
            {
                var t = Stopwatch.StartNew();
                (await http.GetAsync(url)).EnsureSuccessStatusCode();
                samples.Add(t.Elapsed.TotalMilliseconds);
            }
            samples.Sort();
            times[name] = samples[samples.Count / 2];
        }
        return times;
    }
    var pageTimes = await MedianTimesAsync(pages);

    // A run of runSize mappings × all five kinds (the Entra ID source is enabled and the destination is Entra ID
    // offline, so no kind is refused): from the request to the committed jobs in the answer.
    var ids = new List<Guid>(runSize);
    for (var page = 1; ids.Count < runSize; page++)
    {
        var answer = await http.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{projectId}/mappings?pageSize=1000&page={page}", json);
        ids.AddRange(answer.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("id").GetGuid()).Take(runSize - ids.Count));
    }
    var kinds = new[] { "RejoinDomain", "MigratePermissions", "MigrateUserProfile", "MigrateEntraIdGroups", "RegisterAutopilot" };
    clock.Restart();
    var response = await http.PostAsJsonAsync($"/api/v1/projects/{projectId}/runs", new { kinds, mappingIds = ids }, json);
    var runSeconds = clock.Elapsed.TotalSeconds;
    var result = await response.Content.ReadFromJsonAsync<JsonElement>(json);
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"The run failed: {result}");
    }
    var jobs = result.GetProperty("jobCount").GetInt32();
    var runId = result.GetProperty("run").GetProperty("id").GetGuid();

    // The same list while the run's mappings show their run items (no job of it has started): read through the
    // mapping_states view, which derives their summaries.
    var pendingUrls = new Dictionary<string, string>
    {
        ["first page (100 rows)"] = pages["first page (100 rows)"],
        ["page 500 (100 rows)"] = pages["page 500 (100 rows)"],
        ["filter status=WaitingToStart"] = $"/api/v1/projects/{projectId}/mappings?pageSize=100&status=WaitingToStart",
        ["filter status=NotStarted"] = pages["filter status=NotStarted"],
        ["sort -destinationName"] = pages["sort -destinationName"],
    };
    var pendingTimes = await MedianTimesAsync(pendingUrls);

    // The run engine then writes the run's mapping rows (SummaryCatchUp, a tick's work; the bench server runs no
    // tick): how long it takes, and the same list after it, read from the table.
    clock.Restart();
    await using (var scope = app.Services.CreateAsyncScope())
    {
        await scope.ServiceProvider.GetRequiredService<Rehome.Server.Runs.SummaryCatchUp>().CatchUpAsync(TimeSpan.MaxValue, default);
    }
    var catchUpSeconds = clock.Elapsed.TotalSeconds;
    var caughtUpTimes = await MedianTimesAsync(pendingUrls);

    // The references (RawInsert): the run's rows written by plain ADO.NET into a scratch copy of their table: its
    // 250,000 jobs as job rows (what a run wrote before run items), and its run items (what it writes now).
    TimeSpan raw, rawItems;
    int rawItemCount;
    await using (var scope = app.Services.CreateAsyncScope())
    {
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        await db.Database.OpenConnectionAsync();
        (_, raw) = await Rehome.Bench.RawInsert.Jobs.TimeAsync(db.Database.GetDbConnection(), runId);
        (rawItemCount, rawItems) = await Rehome.Bench.RawInsert.Items.TimeAsync(db.Database.GetDbConnection(), runId);
    }

    // The same run by filter ("all N matching"), on the other mappings of the project.
    var remaining = projectSize - runSize;
    double? filterSeconds = null;
    if (remaining > 0)
    {
        clock.Restart();
        (await http.PostAsJsonAsync($"/api/v1/projects/{projectId}/runs", new { kinds, filter = new { status = "NotStarted" } }, json)).EnsureSuccessStatusCode();
        filterSeconds = clock.Elapsed.TotalSeconds;
    }

    // The run's report as CSV with every job of the run failed (one Failure row each), read as it streams in:
    // its time, and the process's peak working set before and after (streaming keeps the second close to the first).
    await using (var scope = app.Services.CreateAsyncScope())
    {
        // Its jobs are derived from run items until something writes them: as rows first, as any writer does.
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            await scope.ServiceProvider.GetRequiredService<Rehome.Server.Runs.RunItemStore>().MaterialiseRunAsync(runId, default);
            await transaction.CommitAsync();
        }
        await db.Jobs.Where(j => j.RunId == runId)
            .ExecuteUpdateAsync(j => j.SetProperty(x => x.Status, Rehome.Core.Runs.JobStatus.Failed).SetProperty(x => x.ErrorCode, "StepFailed")
                .SetProperty(x => x.ErrorMessage, "The benchmark failed this job on purpose."));
    }
    var peakBefore = Process.GetCurrentProcess().PeakWorkingSet64;
    clock.Restart();
    long exportBytes = 0, exportLines = 0;
    using (var export = await http.GetAsync($"/api/v1/runs/{runId}/report.csv", HttpCompletionOption.ResponseHeadersRead))
    {
        export.EnsureSuccessStatusCode();
        await using var body = await export.Content.ReadAsStreamAsync();
        var buffer = new byte[81920];
        for (int read; (read = await body.ReadAsync(buffer)) > 0;)
        {
            exportBytes += read;
            exportLines += buffer.AsSpan(0, read).Count((byte)'\n');
        }
    }
    var exportSeconds = clock.Elapsed.TotalSeconds;
    var peakAfter = Process.GetCurrentProcess().PeakWorkingSet64;

    Console.WriteLine($"{label}:");
    Console.WriteLine($"  import of {projectSize:N0} mappings (CSV over HTTP):            {importSeconds:F2} s");
    foreach (var (name, ms) in pageTimes)
    {
        Console.WriteLine($"  mapping list at {projectSize:N0}, {name,-28} {ms,7:F1} ms (median of 20)");
    }
    Console.WriteLine($"  run of {ids.Count:N0} mappings x 5 jobs ({jobs:N0} jobs), request to committed: {runSeconds:F2} s");
    foreach (var (name, ms) in pendingTimes)
    {
        Console.WriteLine($"  mapping list, {ids.Count:N0} showing run items, {name,-28} {ms,7:F1} ms (median of 20)");
    }
    Console.WriteLine($"  the run engine writes those {ids.Count:N0} mapping rows (after the commit, in the background): {catchUpSeconds:F2} s");
    foreach (var (name, ms) in caughtUpTimes)
    {
        Console.WriteLine($"  mapping list, {ids.Count:N0} waiting, rows written, {name,-28} {ms,7:F1} ms (median of 20)");
    }
    Console.WriteLine($"  raw insert of the same {jobs:N0} job rows (same table and indexes, {(provider == StoreProvider.Sqlite ? "prepared INSERT" : "binary COPY")}, committed): " +
        $"{raw.TotalSeconds:F2} s; the run takes {runSeconds / raw.TotalSeconds:F2} x the raw insert");
    Console.WriteLine($"  raw insert of the rows the run writes now, its {rawItemCount:N0} run items (same table and indexes, committed): " +
        $"{rawItems.TotalSeconds:F2} s; the run takes {runSeconds / rawItems.TotalSeconds:F2} x the raw insert");
    if (filterSeconds is { } f)
    {
        Console.WriteLine($"  run by filter of the other {remaining:N0} mappings x 5 jobs:             {f:F2} s");
    }
    Console.WriteLine($"  run report CSV, {jobs:N0} failure rows ({exportLines:N0} lines, {exportBytes / 1048576.0:F1} MiB):  {exportSeconds:F2} s; " +
        $"peak working set {peakBefore / 1048576.0:F0} MiB before, {peakAfter / 1048576.0:F0} MiB after");
}

static async Task<Guid> CreateProjectAsync(HttpClient http)
{
    async Task<JsonElement> Post(string url, object body)
    {
        var response = await http.PostAsJsonAsync(url, body);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
    var source = await Post("/api/v1/connections", new
    {
        name = "bench-source",
        role = "Source",
        kind = "HybridIdentity",
        source = new { entraId = new { tenantId = Guid.NewGuid(), clientId = Guid.NewGuid(), clientSecret = "bench", enabled = true } },
    });
    var destination = await Post("/api/v1/connections", new
    {
        name = "bench-destination",
        role = "Destination",
        kind = "EntraId",
        destination = new { rejoinMethod = "Offline", bulkEnrollmentTokenExpiresAt = DateTimeOffset.UtcNow.AddDays(90) },
    });
    var policy = await Post("/api/v1/policies", new { name = "bench-policy" });
    var project = await Post("/api/v1/projects", new
    {
        name = "bench",
        sourceConnectionId = source.GetProperty("connection").GetProperty("id").GetGuid(),
        destinationConnectionId = destination.GetProperty("connection").GetProperty("id").GetGuid(),
        policyId = policy.GetProperty("id").GetGuid(),
    });
    return project.GetProperty("id").GetGuid();
}
