using System.Net;
using System.Text;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Api;

/// <summary>Bad input gets a clear problem+json answer and changes nothing.</summary>
public sealed class BadInputTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    private HttpClient Client => server.Host.Client;

    [Theory]
    [InlineData("/api/v1/connections", "{\"name\": \"x\", ")]
    [InlineData("/api/v1/connections", "{\"name\": \"x\", \"role\": \"Sideways\", \"kind\": \"ActiveDirectory\"}")]
    [InlineData("/api/v1/policies", "{\"name\": \"p\", \"settings\": {\"reaclMode\": 7}}")]
    [InlineData("/api/v1/policies", "[1, 2, 3]")]
    public async Task A_malformed_body_gets_400_problem_json_and_creates_nothing(string url, string body)
    {
        var before = (await Client.GetJsonAsync(url)).GetArrayLength();

        var response = await Client.PostAsync(new Uri(url, UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before, (await Client.GetJsonAsync(url)).GetArrayLength());
    }

    [Fact]
    public async Task An_unknown_job_kind_in_a_run_is_refused()
    {
        var project = await Client.CreateProjectAsync();

        var response = await Client.PostAsync(new Uri($"/api/v1/projects/{project}/runs", UriKind.Relative),
            new StringContent("{\"kinds\": [\"Teleport\"], \"filter\": {}}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("page=-5&pageSize=0", HttpStatusCode.OK)]
    [InlineData("page=2147483647&pageSize=1000", HttpStatusCode.OK)]
    [InlineData("sort=password", HttpStatusCode.BadRequest)]
    [InlineData("page=abc", HttpStatusCode.BadRequest)]
    public async Task Odd_paging_and_sorting_get_a_page_or_a_clear_refusal(string query, HttpStatusCode expected)
    {
        var project = await Client.CreateProjectAsync();

        var response = await Client.GetAsync(new Uri($"/api/v1/projects/{project}/mappings?{query}", UriKind.Relative));

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task An_unknown_resource_is_404_problem_json()
    {
        var response = await Client.GetAsync(new Uri($"/api/v1/projects/{Guid.NewGuid()}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
