using System.Net;
using System.Text;
using System.Text.Json;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Properties;

/// <summary>Cases the generated properties found, kept as plain tests: each failed before its fix.</summary>
public sealed class HostileInputRegressions(SqliteServer server) : IClassFixture<SqliteServer>
{
    private HttpClient Client => server.Host.Client;

    private async Task<(HttpResponseMessage Response, JsonElement Problem)> PostAsync(string url, string body)
    {
        var response = await Client.PostAsync(new Uri(url, UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
        return (response, JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync()));
    }

    private static void AssertNames(JsonElement problem, string field)
    {
        Assert.True(problem.TryGetProperty("errors", out var errors) && errors.EnumerateArray().Any(e => e.GetProperty("field").GetString() == field),
            $"Expected an error on {field}, got: {problem}");
    }

    [Theory]
    [InlineData("null")]
    [InlineData("{\"kinds\": [\"RejoinDomain\"]}")]
    public async Task A_rerun_of_a_run_with_nothing_to_rerun_is_refused_naming_the_kinds(string body)
    {
        var project = await Client.CreateProjectAsync();
        var mappings = await Client.ImportDevicesAsync(project, ApiClient.Unique("RR")[..9], 1);
        var run = await Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain" }, mappingIds = mappings });
        var before = await server.Host.FingerprintAsync();

        var (response, problem) = await PostAsync($"/api/v1/runs/{run.GetProperty("run").Id()}/rerun", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("NothingToRerun", problem.GetProperty("rule").GetString());
        AssertNames(problem, "kinds");
        Assert.Equal(before, await server.Host.FingerprintAsync());
    }

    [Theory]
    [InlineData("/agent/v1/poll?wait=0", "Agent rha_0f8fad5bd9cb469fa16570867728950e.wrong-secret", "AgentUnauthenticated")]
    [InlineData("/agent/v1/jobs/not-a-guid/complete", "Agent rha_0f8fad5bd9cb469fa16570867728950e.wrong-secret", "Unauthenticated")]
    [InlineData("/api/v1/projects", "Bearer not-a-token", "Unauthenticated")]
    public async Task A_request_without_a_valid_credential_is_refused_naming_the_rule(string url, string authorization, string rule)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(url, UriKind.Relative)) { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Authorization", authorization);

        var response = await server.Host.Anonymous.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync());
        Assert.True(problem.TryGetProperty("rule", out var named) && named.GetString() == rule, $"Expected the rule {rule}, got: {problem}");
    }

    [Theory]
    [InlineData("42")]
    [InlineData("-1")]
    public async Task Device_facts_with_a_join_type_that_is_none_of_the_known_ones_are_refused_naming_it(string joinType)
    {
        using var device = await server.Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        var before = await server.Host.FingerprintAsync();

        var response = await device.Agent.PostAsync(new Uri("/agent/v1/facts", UriKind.Relative), new StringContent(
            $"{{\"deviceName\": \"{device.DeviceName}\", \"osVersion\": \"Windows 11\", \"agentVersion\": \"1\", \"joinType\": {joinType}}}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        AssertNames(JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync()), "device.joinType");
        Assert.Equal(before, await server.Host.FingerprintAsync());
    }
}
