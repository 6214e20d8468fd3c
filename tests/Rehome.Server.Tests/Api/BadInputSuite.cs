using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Rehome.Server.Console;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Api;

/// <summary>
/// Input the store would choke on or a reader would be fooled by gets a 4xx problem+json naming the field, on
/// SQLite and PostgreSQL: never a 500, never a bare 400, never a change.
/// </summary>
public abstract class BadInputSuite(ServerHost host)
{
    private HttpClient Client => host.Client;

    private static readonly string LongSearch = new('a', 50_001);

    private async Task<JsonElement> SendAsync(HttpMethod method, string url, string? json, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, new Uri(url, UriKind.Relative));
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        var response = await Client.SendAsync(request);
        var problem = await response.JsonAsync(expected);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return problem;
    }

    private static void AssertNames(JsonElement problem, string field, string rule)
    {
        var errors = problem.GetProperty("errors").EnumerateArray().ToList();
        Assert.True(errors.Any(e => e.GetProperty("field").GetString() == field && e.GetProperty("rule").GetString() == rule),
            $"Expected an error on {field} ({rule}), got: {problem}");
    }

    [Fact]
    public async Task A_search_of_fifty_thousand_characters_is_refused_by_the_list_export_run_preview_and_readiness()
    {
        var project = await Client.CreateProjectAsync();
        var filter = JsonSerializer.Serialize(new { kinds = new[] { "RejoinDomain" }, filter = new { search = LongSearch } });

        // A query string stays within Kestrel's 8 KiB request line: long, if not as long as a body's.
        var longQuery = new string('a', 5_000);
        AssertNames(await SendAsync(HttpMethod.Get, $"/api/v1/projects/{project}/mappings?search={longQuery}", null, HttpStatusCode.BadRequest), "search", "MaxLength");
        AssertNames(await SendAsync(HttpMethod.Get, $"/api/v1/projects/{project}/mappings/export?search={longQuery}", null, HttpStatusCode.BadRequest), "search", "MaxLength");
        AssertNames(await SendAsync(HttpMethod.Post, $"/api/v1/projects/{project}/runs/preview", filter, HttpStatusCode.BadRequest), "filter.search", "MaxLength");
        AssertNames(await SendAsync(HttpMethod.Post, $"/api/v1/projects/{project}/runs", filter, HttpStatusCode.BadRequest), "filter.search", "MaxLength");
        AssertNames(await SendAsync(HttpMethod.Post, $"/api/v1/projects/{project}/readiness", filter, HttpStatusCode.BadRequest), "filter.search", "MaxLength");
    }

    [Theory]
    [InlineData("{\"name\": \"P\", \"settings\": {\"identityMapping\": {\"users\": [null]}}}", "settings.identityMapping.users[0]", "Required")]
    [InlineData("{\"name\": \"P\", \"settings\": {\"identityMapping\": null}}", "settings.identityMapping", "Required")]
    [InlineData("{\"name\": \"P\", \"settings\": {\"areas\": {\"fileSystemPaths\": [null]}}}", "settings.areas.fileSystemPaths[0]", "WindowsPath")]
    [InlineData("{\"name\": \"P\", \"settings\": {\"identityMapping\": {\"users\": [{\"source\": \"a\\u001b[2J\", \"destination\": \"b\"}]}}}",
        "settings.identityMapping.users[0].source", "ControlCharacter")]
    public async Task A_policy_with_a_null_or_unprintable_part_is_refused_naming_it(string body, string field, string rule)
    {
        var before = (await Client.GetJsonAsync("/api/v1/policies")).GetArrayLength();

        AssertNames(await SendAsync(HttpMethod.Post, "/api/v1/policies", body.Replace("\"P\"", $"\"{ApiClient.Unique("p")}\"", StringComparison.Ordinal),
            HttpStatusCode.BadRequest), field, rule);

        Assert.Equal(before, (await Client.GetJsonAsync("/api/v1/policies")).GetArrayLength());
    }

    [Theory]
    [InlineData("/api/v1/connections", "{\"name\": \"x\\u0000y\", \"role\": \"Source\", \"kind\": \"HybridIdentity\"}", "name")]
    [InlineData("/api/v1/connections", "{\"name\": \"x\\u001b[31my\", \"role\": \"Source\", \"kind\": \"HybridIdentity\"}", "name")]
    [InlineData("/api/v1/connections", "{\"name\": \"n\", \"role\": \"Source\", \"kind\": \"HybridIdentity\", \"source\": {\"domainController\": \"dc\\u0000\"}}", "source.domainController")]
    [InlineData("/api/v1/policies", "{\"name\": \"invoice\u202Efdp.exe\"}", "name")]
    [InlineData("/api/v1/policies", "{\"name\": \"two\\nlines\"}", "name")]
    [InlineData("/api/v1/tokens", "{\"name\": \"tok\u009b31m\"}", "name")]
    public async Task A_name_with_a_control_or_bidi_override_character_is_refused_and_nothing_is_created(string url, string body, string field)
    {
        var unique = body.Replace("\"n\"", $"\"{ApiClient.Unique("n")}\"", StringComparison.Ordinal);

        AssertNames(await SendAsync(HttpMethod.Post, url, unique, HttpStatusCode.BadRequest), field, "ControlCharacter");

        var list = await Client.GetJsonAsync(url);
        Assert.DoesNotContain(list.EnumerateArray(), e => e.GetProperty("name").GetString()!.Any(c => char.IsControl(c) || c == '\u202E'));
    }

    [Fact]
    public async Task A_project_tag_and_a_mapping_user_with_control_characters_are_refused()
    {
        var project = await Client.CreateProjectAsync();
        var source = await Client.GetJsonAsync($"/api/v1/projects/{project}");
        var body = JsonSerializer.Serialize(new
        {
            name = ApiClient.Unique("project"),
            tags = new[] { "wave\u00001" },
            sourceConnectionId = source.GetProperty("sourceConnectionId").GetGuid(),
            destinationConnectionId = source.GetProperty("destinationConnectionId").GetGuid(),
            policyId = source.GetProperty("policyId").GetGuid(),
        });

        AssertNames(await SendAsync(HttpMethod.Post, "/api/v1/projects", body, HttpStatusCode.BadRequest), "tags[0]", "ControlCharacter");
        AssertNames(await SendAsync(HttpMethod.Post, $"/api/v1/projects/{project}/mappings",
            "{\"sourceDevice\": \"PC01\", \"primaryUser\": \"CONTOSO\\\\ann\\u0000\", \"destinationUser\": \"ann@fabrikam.example\"}", HttpStatusCode.BadRequest),
            "primaryUser", "ControlCharacter");
    }

    [Fact]
    public async Task A_run_scheduled_more_than_a_year_ahead_is_refused_with_the_bound()
    {
        var project = await Client.CreateProjectAsync();
        var ids = await Client.ImportDevicesAsync(project, "FAR", 1);
        var body = JsonSerializer.Serialize(new { kinds = new[] { "RejoinDomain" }, mappingIds = ids, startAt = host.Time.GetUtcNow().AddDays(400) });

        var problem = await SendAsync(HttpMethod.Post, $"/api/v1/projects/{project}/runs", body, HttpStatusCode.BadRequest);

        AssertNames(problem, "startAt", "StartTooFarAhead");
        Assert.Contains("365 days", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await Client.GetJsonAsync($"/api/v1/projects/{project}/runs")).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task A_chunked_import_over_the_limit_gets_413_and_imports_nothing()
    {
        var project = await Client.CreateProjectAsync();
        var rows = new StringBuilder("SourceDevice\n");
        for (var i = 0; rows.Length <= ImportLimit; i++)
        {
            rows.Append(CultureInfoInvariant($"BIG{i:D6}\n"));
        }
        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(rows.ToString())));
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"/api/v1/projects/{project}/mappings/import", UriKind.Relative)) { Content = content };
        request.Headers.TransferEncodingChunked = true;

        var response = await Client.SendAsync(request);

        var problem = await response.JsonAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("FileTooLarge", problem.GetProperty("rule").GetString());
        Assert.Equal(0, (await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings")).GetProperty("total").GetInt32());
    }

    /// <summary>The import limit of the servers of this suite (small, so that a test goes over it quickly).</summary>
    public const int ImportLimit = 64 * 1024;

    private static string CultureInfoInvariant(FormattableString text) => FormattableString.Invariant(text);
}

/// <summary>A server of the bad-input suite: a small import limit, the simulated directory for the readiness check.</summary>
public abstract class BadInputServer(StoreProvider provider) : IAsyncLifetime
{
    public ServerHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await ServerHost.StartAsync(provider, new()
    {
        ["Rehome:Import:MaxBytes"] = BadInputSuite.ImportLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Rehome:Directories:Mode"] = "Simulated",
        ["Rehome:Gateway:EnrollmentsPerMinute"] = "10000",
    });

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

public sealed class BadInputSqliteServer() : BadInputServer(StoreProvider.Sqlite);

public sealed class BadInputPostgresServer() : BadInputServer(StoreProvider.PostgreSql);

public sealed class BadInputOnSqlite(BadInputSqliteServer server) : BadInputSuite(server.Host), IClassFixture<BadInputSqliteServer>;

public sealed class BadInputOnPostgres(BadInputPostgresServer server) : BadInputSuite(server.Host), IClassFixture<BadInputPostgresServer>;

/// <summary>Where the console sends a browser back after sign-in.</summary>
public sealed class SignInReturnUrlTests
{
    [Theory]
    [InlineData("/projects", true)]
    [InlineData("/projects/1?status=Failed", true)]
    [InlineData("//evil.example", false)]
    [InlineData("/\\evil.example", false)]
    [InlineData("/\t/evil.example", false)]
    [InlineData("/\n/evil.example", false)]
    [InlineData("/projects\r\nSet-Cookie: a=b", false)]
    [InlineData("https://evil.example", false)]
    public void Only_a_plain_path_on_this_site_is_a_return_url(string url, bool local) =>
        Assert.Equal(local, ConsoleServiceCollectionExtensions.IsLocal(url));
}
