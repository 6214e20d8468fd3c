using System.Net;
using System.Text;
using System.Text.Json;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Api;

/// <summary>Bad input gets a clear problem+json answer naming the field, and changes nothing.</summary>
public sealed class BadInputTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    private HttpClient Client => server.Host.Client;

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var problem = await response.JsonAsync(expected);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return problem;
    }

    private static JsonElement Error(JsonElement problem, string field)
    {
        var errors = problem.TryGetProperty("errors", out var list) ? list.EnumerateArray().ToList() : [];
        return errors.FirstOrDefault(e => e.GetProperty("field").GetString() == field) is { ValueKind: JsonValueKind.Object } error
            ? error
            : throw new Xunit.Sdk.XunitException($"No error names '{field}': {problem}");
    }

    [Theory]
    [InlineData("/api/v1/connections", "{\"name\": \"x\", ", "body", "MalformedJson")]
    [InlineData("/api/v1/connections", "{\"name\": \"x\", \"role\": \"Sideways\", \"kind\": \"ActiveDirectory\"}", "role", "InvalidValue")]
    [InlineData("/api/v1/connections", "{\"name\": \"x\", \"name\": \"y\", \"role\": \"Source\", \"kind\": \"HybridIdentity\"}", "name", "DuplicateProperty")]
    [InlineData("/api/v1/connections", "{\"name\": 5, \"role\": \"Source\", \"kind\": \"HybridIdentity\"}", "name", "InvalidValue")]
    [InlineData("/api/v1/policies", "{\"name\": \"p\", \"settings\": {\"reaclMode\": 7}}", "settings.reaclMode", "UnknownValue")]
    [InlineData("/api/v1/policies", "{\"name\": \"p\", \"settings\": {\"hybridRegistrationWaitSeconds\": \"soon\"}}", "settings.hybridRegistrationWaitSeconds", "InvalidValue")]
    [InlineData("/api/v1/policies", "[1, 2, 3]", "body", "InvalidValue")]
    [InlineData("/api/v1/projects", "{\"name\": \"p\", \"sourceConnectionId\": \"not-a-guid\"}", "sourceConnectionId", "InvalidValue")]
    public async Task A_malformed_body_gets_400_problem_json_naming_the_field_and_creates_nothing(string url, string body, string field, string rule)
    {
        var before = (await Client.GetJsonAsync(url)).GetArrayLength();

        var response = await Client.PostAsync(new Uri(url, UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(rule, Error(problem, field).GetProperty("rule").GetString());
        Assert.Equal(before, (await Client.GetJsonAsync(url)).GetArrayLength());
    }

    [Fact]
    public async Task An_unknown_enum_name_is_answered_with_the_names_allowed()
    {
        var response = await Client.PostAsync(new Uri("/api/v1/connections", UriKind.Relative),
            new StringContent("{\"name\": \"x\", \"role\": \"Sideways\", \"kind\": \"ActiveDirectory\"}", Encoding.UTF8, "application/json"));

        var message = Error(await ProblemAsync(response, HttpStatusCode.BadRequest), "role").GetProperty("message").GetString();
        Assert.Contains("Source, Destination", message, StringComparison.Ordinal);
        Assert.DoesNotContain("Sideways", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_job_kind_in_a_run_is_refused_naming_the_kinds_allowed()
    {
        var project = await Client.CreateProjectAsync();

        var response = await Client.PostAsync(new Uri($"/api/v1/projects/{project}/runs", UriKind.Relative),
            new StringContent("{\"kinds\": [\"Teleport\"], \"filter\": {}}", Encoding.UTF8, "application/json"));

        var error = Error(await ProblemAsync(response, HttpStatusCode.BadRequest), "kinds[0]");
        Assert.Contains("RejoinDomain", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_that_is_missing_or_not_json_is_named()
    {
        var project = await Client.CreateProjectAsync();

        var empty = await Client.PostAsync(new Uri($"/api/v1/projects/{project}/runs", UriKind.Relative), new StringContent("", Encoding.UTF8, "application/json"));
        var text = await Client.PostAsync(new Uri($"/api/v1/projects/{project}/runs", UriKind.Relative), new StringContent("kinds=all", Encoding.UTF8, "text/plain"));

        Assert.Equal("Required", Error(await ProblemAsync(empty, HttpStatusCode.BadRequest), "body").GetProperty("rule").GetString());
        Assert.Equal("UnsupportedMediaType", (await ProblemAsync(text, HttpStatusCode.UnsupportedMediaType)).GetProperty("rule").GetString());
    }

    [Theory]
    [InlineData("page=-5&pageSize=0", HttpStatusCode.OK, null)]
    [InlineData("page=2147483647&pageSize=1000", HttpStatusCode.OK, null)]
    [InlineData("sort=password", HttpStatusCode.BadRequest, "sort")]
    [InlineData("page=abc", HttpStatusCode.BadRequest, "page")]
    [InlineData("pageSize=1e99", HttpStatusCode.BadRequest, "pageSize")]
    [InlineData("status=1", HttpStatusCode.BadRequest, "status")]
    public async Task Odd_paging_and_sorting_get_a_page_or_a_refusal_naming_the_parameter(string query, HttpStatusCode expected, string? field)
    {
        var project = await Client.CreateProjectAsync();

        var response = await Client.GetAsync(new Uri($"/api/v1/projects/{project}/mappings?{query}", UriKind.Relative));

        Assert.Equal(expected, response.StatusCode);
        if (field is not null)
        {
            Error(await ProblemAsync(response, expected), field);
        }
    }

    [Fact]
    public async Task A_value_that_does_not_bind_never_reaches_the_log()
    {
        var project = await Client.CreateProjectAsync();

        var response = await Client.GetAsync(new Uri($"/api/v1/projects/{project}/mappings?page=%1B%5B31mEVIL", UriKind.Relative));

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.DoesNotContain("EVIL", problem.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(server.Host.Logs.Lines, line => line.Contains("EVIL", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unknown_resource_is_404_problem_json()
    {
        var response = await Client.GetAsync(new Uri($"/api/v1/projects/{Guid.NewGuid()}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
