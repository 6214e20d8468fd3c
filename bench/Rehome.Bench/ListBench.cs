using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rehome.Server.Store;

/// <summary>
/// The mapping list of issue 16 at 100,000 (and 1,000,000) mappings in one project, over HTTP on loopback: the
/// first page, deep pages by offset and by cursor, status filters, the destination-name sort at depth, and text
/// searches; the median of 20 requests each, and the first request (whose total is counted, not reused).
/// Mappings are seeded by one INSERT … SELECT in the store (a recursive CTE on SQLite, generate_series on
/// PostgreSQL), with the triggers of the search index firing as for an import; one in a hundred is Failed.
/// Usage: dotnet run -c Release --project bench/Rehome.Bench -- list [sqlite|postgres|all] [sizes, comma-separated]
/// </summary>
internal static class ListBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var which = args.ElementAtOrDefault(0) ?? "all";
        var sizes = (args.ElementAtOrDefault(1) ?? "100000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList();
        var postgres = Environment.GetEnvironmentVariable("REHOME_BENCH_POSTGRES");
        Console.WriteLine($"Mapping list: {Environment.ProcessorCount} cores; load average {BenchServer.LoadAverage()} at start; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        foreach (var size in sizes)
        {
            if (which is "sqlite" or "all")
            {
                await BenchAsync("SQLite", StoreProvider.Sqlite, null, size);
            }
            if (which is "postgres" or "all")
            {
                if (postgres is null)
                {
                    Console.WriteLine("PostgreSQL: skipped (set REHOME_BENCH_POSTGRES, or use bench/run.sh which starts one).");
                }
                else
                {
                    await BenchAsync("PostgreSQL", StoreProvider.PostgreSql, postgres, size);
                }
            }
        }
        Console.WriteLine($"Load average {BenchServer.LoadAverage()} at end.");
        return 0;
    }

    private static async Task BenchAsync(string label, StoreProvider provider, string? adminConnection, int size)
    {
        await using var server = await BenchServer.StartAsync(provider, adminConnection, "rehome_list_bench_", logging =>
        {
            if (Environment.GetEnvironmentVariable("REHOME_BENCH_SQL") == "1")
            {
                logging.AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.Information); // the SQL of every query
            }
        });
        var (app, http) = (server.App, server.Http);

        var project = await NewProjectAsync(http);
        var clock = Stopwatch.StartNew();
        await SeedAsync(app.Services, provider, project, size);
        var seedSeconds = clock.Elapsed.TotalSeconds;

        var list = $"/api/v1/projects/{project}/mappings?pageSize=100";
        var deep = size / 200;
        var byKeyAtDepth = await NextAsync(http, $"{list}&page={deep}");
        var byNameAtDepth = await NextAsync(http, $"{list}&sort=-destinationName&page={deep}");
        var queries = new (string Name, string Url)[]
        {
            ("first page", list),
            ($"page {deep:N0} by offset", $"{list}&page={deep}"),
            ($"page {deep + 1:N0} by cursor", $"{list}&after={byKeyAtDepth}"),
            ("filter status=NotStarted", $"{list}&status=NotStarted"),
            ("filter status=Failed (1 %)", $"{list}&status=Failed"),
            ("sort -destinationName, page 20", $"{list}&sort=-destinationName&page=20"),
            ($"sort -destinationName, page {deep + 1:N0} by cursor", $"{list}&sort=-destinationName&after={byNameAtDepth}"),
            ("search 'u4242@' (trigram index)", $"{list}&search=u4242%40"),
            ("search 'B00012' (many rows match)", $"{list}&search=B00012"),
            ("search 'u4' (2 characters, no index)", $"{list}&search=u4"),
            ("search 'fabrikam' (every row matches)", $"{list}&search=fabrikam"),
        };
        Console.WriteLine($"{label}, {size:N0} mappings (seeded in {seedSeconds:F1} s):");
        foreach (var (name, url) in queries)
        {
            var first = await TimeAsync(http, url);
            var samples = new List<double>();
            for (var i = 0; i < 20; i++)
            {
                samples.Add(await TimeAsync(http, url));
            }
            samples.Sort();
            Console.WriteLine($"  {name,-44} median {samples[samples.Count / 2],7:F1} ms   first {first,7:F1} ms");
        }
    }

    private static async Task<double> TimeAsync(HttpClient http, string url)
    {
        var clock = Stopwatch.StartNew();
        using var response = await http.GetAsync(url);
        await response.Content.ReadAsByteArrayAsync();
        response.EnsureSuccessStatusCode();
        return clock.Elapsed.TotalMilliseconds;
    }

    private static async Task<string> NextAsync(HttpClient http, string url)
    {
        var page = await http.GetFromJsonAsync<JsonElement>(url);
        return Uri.EscapeDataString(page.GetProperty("next").GetString()!);
    }

    /// <summary>Mappings as an import writes them (destination names in another order than the devices), in one statement.</summary>
    private static async Task SeedAsync(IServiceProvider services, StoreProvider provider, Guid project, int size)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        db.Database.SetCommandTimeout(TimeSpan.FromMinutes(30));
        var (last, blob, now) = (size - 1, project.ToByteArray(bigEndian: true), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        // 7,919 is prime, so (i × 7,919) mod size visits every number once: unique names, in a shuffled order.
        if (provider == StoreProvider.Sqlite)
        {
            await db.Database.ExecuteSqlAsync($$"""
                WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {{last}})
                INSERT INTO mappings (id, project_id, source_device, source_device_key, destination_name, primary_user, destination_user, status, stage, items_done, items_total, created_at, updated_at)
                SELECT randomblob(16), {{blob}}, printf('B%07d', i), printf('B%07d', i), printf('D%07d', (i * 7919) % {{size}}), printf('CONTOSO\u%d', i),
                       printf('u%d@fabrikam.example', i), CASE WHEN i % 100 = 99 THEN 8 END, CASE WHEN i % 100 = 99 THEN 1 END, 0, 0,
                       {{now}}, {{now}}
                FROM n
                """);
        }
        else
        {
            await db.Database.ExecuteSqlAsync($$"""
                INSERT INTO mappings (id, project_id, source_device, source_device_key, destination_name, primary_user, destination_user, status, stage, items_done, items_total, created_at, updated_at)
                SELECT gen_random_uuid(), {{project}}, 'B' || lpad(i::text, 7, '0'), 'B' || lpad(i::text, 7, '0'), 'D' || lpad(((i::bigint * 7919) % {{size}}::bigint)::text, 7, '0'),
                       'CONTOSO\u' || i, 'u' || i || '@fabrikam.example', CASE WHEN i % 100 = 99 THEN 8 END, CASE WHEN i % 100 = 99 THEN 1 END, 0, 0, now(), now()
                FROM generate_series(0, {{last}}) AS i
                """);
            await db.Database.ExecuteSqlRawAsync("VACUUM ANALYZE mappings");
            await db.Database.ExecuteSqlRawAsync("VACUUM ANALYZE mapping_search");
        }
    }

    /// <summary>A project with an Active Directory source and destination and a default policy.</summary>
    private static async Task<Guid> NewProjectAsync(HttpClient http)
    {
        async Task<Guid> IdOf(string url, object body, string? inner = null)
        {
            using var response = await http.PostAsJsonAsync(url, body);
            var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"{url}: {answer}");
            }
            return (inner is null ? answer : answer.GetProperty(inner)).GetProperty("id").GetGuid();
        }
        var source = await IdOf("/api/v1/connections", new { name = "list-source", role = "Source", kind = "HybridIdentity" }, "connection");
        var destination = await IdOf("/api/v1/connections", new
        {
            name = "list-destination",
            role = "Destination",
            kind = "ActiveDirectory",
            destination = new { domainDnsName = "fabrikam.example", targetOu = "OU=Migrated,DC=fabrikam,DC=example", rejoinMethod = "Offline", serviceAccountName = "FABRIKAM\\svc", serviceAccountPassword = "bench" },
        }, "connection");
        var policy = await IdOf("/api/v1/policies", new { name = "list-policy" });
        return await IdOf("/api/v1/projects", new { name = "list", sourceConnectionId = source, destinationConnectionId = destination, policyId = policy });
    }
}
