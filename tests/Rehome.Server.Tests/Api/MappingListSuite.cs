using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Core.Mappings;
using Rehome.Core.Runs;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Api;

/// <summary>The mapping list's fast paths (trigram search, cursors, reused totals) answer what the plain queries would; on SQLite and PostgreSQL.</summary>
public abstract class MappingListSuite(ServerHost host)
{
    private HttpClient Client => host.Client;

    private static string Prefix() => "L" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();

    [Fact]
    public async Task Search_answers_a_case_insensitive_substring_of_the_four_columns_on_awkward_text()
    {
        var project = await Client.CreateProjectAsync();
        var p = Prefix();
        // Names the API would refuse are stored anyway (older versions, direct imports): the search must still be exact.
        string?[][] rows =
        [
            ["50%_off", "CONTOSO\\ann", "ann@fabrikam.example"],
            ["back\\slash", "o'brien", "say \"hi\""],
            ["Łódź-été", null, "ÇA-va@fabrikam.example"],
            ["straße", "日本語", null],
            ["plain", "CONTOSO\\bob", "bob@fabrikam.example"],
            ["a_b", "x%y", "Ünïcödé"],
        ];
        var devices = new List<Mapping>();
        await using (var scope = host.Scope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
            for (var i = 0; i < rows.Length; i++)
            {
                var mapping = Mapping.Create(project, new MappingInput { SourceDevice = $"{p}{i:D2}", DestinationName = rows[i][0] }, host.Now);
                mapping.PrimaryUser = rows[i][1];
                mapping.DestinationUser = rows[i][2];
                devices.Add(mapping);
            }
            db.Mappings.AddRange(devices);
            await db.SaveChangesAsync();
        }
        string[] searches =
        [
            "%", "_", "\\", "'", "\"", "0%_", "%_o", "k\\s", "\"hi\"", "o'b", "a", "ab", "é", "É", "ÉTÉ", "łó", "ÓDŹ", "ça-", "ß", "STRASSE",
            "日本", "本語", "日本語", "ünï", "ÏCÖ", "x%y", "_b", p, p.ToLowerInvariant() + "03", "nothing-like-it", "  plain  ",
        ];

        foreach (var search in searches)
        {
            var needle = search.Trim().ToUpperInvariant();
            var expected = devices
                .Where(m => new[] { m.SourceDeviceKey, m.DestinationName, m.PrimaryUser, m.DestinationUser }.Any(c => c?.ToUpperInvariant().Contains(needle, StringComparison.Ordinal) == true))
                .Select(m => m.SourceDevice).Order(StringComparer.Ordinal).ToList();
            var page = await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?pageSize=1000&search={Uri.EscapeDataString(search)}");
            var found = page.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("sourceDevice").GetString()!).Order(StringComparer.Ordinal).ToList();
            Assert.True(expected.SequenceEqual(found), $"search '{search}': expected [{string.Join(", ", expected)}], found [{string.Join(", ", found)}]");
            Assert.Equal(expected.Count, page.GetProperty("total").GetInt32());
        }
    }

    [Fact]
    public async Task A_search_found_in_thousands_of_rows_is_as_exact_as_a_narrow_one()
    {
        var project = await Client.CreateProjectAsync();
        var p = Prefix();
        await using (var scope = host.Scope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
            db.Mappings.AddRange(Enumerable.Range(0, 2_100).Select(i =>
            {
                var mapping = Mapping.Create(project, new MappingInput { SourceDevice = $"{p}{i:D4}", DestinationName = $"{p}{i:D4}" }, host.Now);
                mapping.DestinationUser = i % 3 == 0 ? $"u{i}@Été-{p}.example" : $"u{i}@ete-{p}.example";
                return mapping;
            }));
            await db.SaveChangesAsync();
        }

        var broad = await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?pageSize=5&search={Uri.EscapeDataString("éTÉ-" + p.ToLowerInvariant())}");

        Assert.Equal(700, broad.GetProperty("total").GetInt32());
        Assert.Equal([$"{p}0000", $"{p}0003", $"{p}0006", $"{p}0009", $"{p}0012"], broad.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("sourceDevice").GetString()));
        Assert.Equal(2_100, (await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?pageSize=5&search={p}.example")).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task A_renamed_or_deleted_mapping_is_found_by_its_new_names_only()
    {
        var project = await Client.CreateProjectAsync();
        var p = Prefix();
        var first = await Client.PostJsonAsync($"/api/v1/projects/{project}/mappings", new { sourceDevice = $"{p}01", destinationName = "OLDNAME01" });
        var second = await Client.PostJsonAsync($"/api/v1/projects/{project}/mappings", new { sourceDevice = $"{p}02", destinationName = "GONE02" });

        await (await Client.PutAsJsonAsync($"/api/v1/mappings/{first.Id()}", new { sourceDevice = $"{p}01", destinationName = "NEWNAME01" }, ServerHost.Json)).JsonAsync(HttpStatusCode.OK);
        (await Client.DeleteAsync(new Uri($"/api/v1/mappings/{second.Id()}", UriKind.Relative))).EnsureSuccessStatusCode();

        Assert.Equal(0, (await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?search=oldname")).GetProperty("total").GetInt32());
        Assert.Equal(1, (await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?search=newname")).GetProperty("total").GetInt32());
        Assert.Equal(0, (await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?search=gone02")).GetProperty("total").GetInt32());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Walking_every_page_by_cursor_yields_each_mapping_once_in_the_order_of_the_offset_pages(int seed)
    {
        var project = await Client.CreateProjectAsync();
        var p = Prefix();
        var random = new Random(seed);
        await using (var scope = host.Scope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
            var start = host.Now;
            for (var i = 0; i < 53; i++)
            {
                // Few distinct values, so that ties (and empty statuses and stages) fall across page boundaries.
                var mapping = Mapping.Create(project, new MappingInput { SourceDevice = $"{p}{random.Next(100_000):D5}{i:D2}", DestinationName = $"DEST{random.Next(6)}" }, start);
                mapping.Status = random.Next(3) == 0 ? null : (JobStatus)(1 + random.Next(3));
                mapping.Stage = mapping.Status is null ? null : (JobKind)(1 + random.Next(2));
                mapping.UpdatedAt = start.AddMinutes(random.Next(4));
                mapping.PrimaryUser = random.Next(2) == 0 ? "CONTOSO\\odd" : "CONTOSO\\even";
                db.Mappings.Add(mapping);
            }
            await db.SaveChangesAsync();
        }

        foreach (var key in new[] { "sourceDevice", "destinationName", "status", "stage", "updatedAt" })
        {
            foreach (var sort in new[] { key, "-" + key })
            {
                foreach (var filter in new[] { "", "&search=odd", "&status=NotStarted", "&readiness=NotChecked" })
                {
                    var list = $"/api/v1/projects/{project}/mappings?sort={sort}{filter}";
                    var whole = await Client.GetJsonAsync($"{list}&pageSize=1000");
                    var expected = Ids(whole);
                    var walked = new List<Guid>();
                    var page = await Client.GetJsonAsync($"{list}&pageSize=4");
                    for (var pages = 0; ; pages++)
                    {
                        Assert.True(pages <= expected.Count, $"{list}: the walk does not end");
                        walked.AddRange(Ids(page));
                        if (page.GetProperty("next").GetString() is not { } next)
                        {
                            break;
                        }
                        page = await Client.GetJsonAsync($"{list}&pageSize=4&after={Uri.EscapeDataString(next)}");
                    }
                    Assert.True(expected.SequenceEqual(walked), $"{list}: the cursor walk gave {walked.Count} rows ({walked.Distinct().Count()} distinct), the offset page {expected.Count}");
                }
            }
        }
    }

    [Fact]
    public async Task A_cursor_that_is_not_one_of_this_list_is_refused_naming_after()
    {
        var project = await Client.CreateProjectAsync();
        await Client.ImportDevicesAsync(project, Prefix(), 3);
        var list = $"/api/v1/projects/{project}/mappings";
        var byName = (await Client.GetJsonAsync($"{list}?sort=destinationName&pageSize=1")).GetProperty("next").GetString()!;
        static string Forge(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

        foreach (var query in new[]
        {
            "?after=not-a-cursor", "?after=%25%00", $"?after={byName}", $"?sort=-destinationName&after={byName}", $"?sort=destinationName&page=2&after={byName}",
            $"?after={Forge("[\"sourceDevice\",\"1\",\"K\"]")}", $"?sort=status&after={Forge("[\"status\",\"99\",\"K\"]")}",
            $"?sort=updatedAt&after={Forge("[\"updatedAt\",\"-5\",\"K\"]")}", $"?after={Forge("[\"sourceDevice\",null,\"\\u001b[2J\"]")}",
            $"?after={Forge("{\"a\":1}")}", $"?after={new string('A', 7_900)}",
        })
        {
            var problem = await Client.GetJsonAsync(list + query, HttpStatusCode.BadRequest);
            Assert.Equal("after", problem.GetProperty("errors")[0].GetProperty("field").GetString());
            Assert.DoesNotContain("\u001b", problem.GetRawText(), StringComparison.Ordinal);
        }
        Assert.Equal(2, (await Client.GetJsonAsync($"{list}?sort=destinationName&after={byName}")).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task A_total_past_ten_thousand_is_reused_for_fifteen_seconds_and_says_it_is_an_estimate()
    {
        var project = await Client.CreateProjectAsync();
        var p = Prefix();
        await using (var scope = host.Scope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
            db.Mappings.AddRange(Enumerable.Range(0, 10_001).Select(i => Mapping.Create(project, new MappingInput { SourceDevice = $"{p}{i:D5}", DestinationName = $"{p}{i:D5}" }, host.Now)));
            await db.SaveChangesAsync();
        }
        var list = $"/api/v1/projects/{project}/mappings?pageSize=1";

        var counted = await Client.GetJsonAsync(list);
        await using (var scope = host.Scope())
        {
            var last = Enumerable.Range(9_996, 5).Select(i => $"{p}{i:D5}").ToList();
            await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Mappings.Where(m => last.Contains(m.SourceDeviceKey)).ExecuteDeleteAsync();
        }
        var reused = await Client.GetJsonAsync(list);
        host.Time.Advance(TimeSpan.FromSeconds(16));
        var recounted = await Client.GetJsonAsync(list);
        var small = await Client.GetJsonAsync($"{list}&search={p}0000");

        Assert.Equal((10_001, false), Total(counted));
        Assert.Equal((10_001, true), Total(reused));
        Assert.Equal((9_996, false), Total(recounted));
        Assert.Equal((10, false), Total(small));
    }

    private static List<Guid> Ids(JsonElement page) => page.GetProperty("items").EnumerateArray().Select(m => m.Id()).ToList();

    private static (int, bool) Total(JsonElement page) => (page.GetProperty("total").GetInt32(), page.GetProperty("totalIsEstimate").GetBoolean());
}

public sealed class MappingListOnSqlite(SqliteServer server) : MappingListSuite(server.Host), IClassFixture<SqliteServer>;

public sealed class MappingListOnPostgres(PostgresServer server) : MappingListSuite(server.Host), IClassFixture<PostgresServer>;
