using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Rehome.Protocol;
using Rehome.Server.Api;
using Rehome.Server.Gateway;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Gateway;

/// <summary>
/// The long poll is a hand-written request delegate (issue 16): it reads <c>wait</c> from the raw query string and,
/// for an agent the server already knows, answers before the rest of the pipeline. Everything a client sees stays
/// as the framework's binding and pipeline made it: a bad <c>wait</c> is a 400 problem naming it, refusals are the
/// same 401 problems, and the OpenAPI document describes the operation.
/// </summary>
public sealed class RawPollTests(RawPollTests.World world) : IClassFixture<RawPollTests.World>
{
    /// <summary>One server whose policy evaluator counts its calls, and one enrolled agent.</summary>
    public sealed class World : IAsyncLifetime
    {
        private int evaluations;

        public ServerHost Host { get; private set; } = null!;

        public EnrolledDevice Device { get; private set; } = null!;

        public int Evaluations => Volatile.Read(ref evaluations);

        public async Task InitializeAsync()
        {
            Host = await ServerHost.StartAsync(StoreProvider.Sqlite, new()
            {
                ["Rehome:Directories:Mode"] = "Simulated",
                ["Rehome:Gateway:EnrollmentsPerMinute"] = "10000",
                ["Rehome:Gateway:RecheckInterval"] = "00:10:00",
            }, services => services.Replace(ServiceDescriptor.Singleton<IPolicyEvaluator>(sp =>
                new CountingEvaluator(ActivatorUtilities.CreateInstance<GatewayPolicyEvaluator>(sp), () => Interlocked.Increment(ref evaluations)))));
            Device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"), source: new { domainDnsName = "contoso.example" });
        }

        public async Task DisposeAsync()
        {
            Device.Dispose();
            await Host.DisposeAsync();
        }
    }

    private sealed class CountingEvaluator(IPolicyEvaluator inner, Action counted) : IPolicyEvaluator
    {
        public Task<AuthenticateResult> AuthenticateAsync(AuthorizationPolicy policy, HttpContext context)
        {
            counted();
            return inner.AuthenticateAsync(policy, context);
        }

        public Task<PolicyAuthorizationResult> AuthorizeAsync(AuthorizationPolicy policy, AuthenticateResult authenticationResult, HttpContext context, object? resource) =>
            inner.AuthorizeAsync(policy, authenticationResult, context, resource);
    }

    private Task<HttpResponseMessage> PollAsync(string query) =>
        world.Device.Agent.PostAsync(new Uri("/agent/v1/poll?" + query, UriKind.Relative), null);

    [Theory]
    [InlineData("wait=soon", "wait")]
    [InlineData("wait=1.5", "wait")]
    [InlineData("wait=99999999999", "wait")]
    [InlineData("wait=%20", "wait")]
    [InlineData("wait=0&wait=0", "wait")]
    [InlineData("WAIT=soon", "wait")]
    [InlineData("w%61it=soon", "wait")]
    [InlineData("wait=0&unanswered=yes", "unanswered")]
    [InlineData("wait=0&unanswered=1", "unanswered")]
    [InlineData("unanswered=true&unanswered=false&wait=0", "unanswered")]
    public async Task A_wait_that_is_not_one_whole_number_or_an_unanswered_not_true_or_false_is_refused_400_naming_it(string query, string field)
    {
        using var response = await PollAsync(query);

        var problem = await response.JsonAsync(HttpStatusCode.BadRequest);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("https://rehome.dev/problems/validation", problem.GetProperty("type").GetString());
        Assert.Equal("The request breaks a rule", problem.GetProperty("title").GetString());
        Assert.Equal("InvalidValue", problem.GetProperty("rule").GetString());
        // The framework's binding said so (its message names the type, "Nullable<int>" or "Nullable<bool>"), and so it stays.
        Assert.Equal($"The {field} must be an object as the API's description shows.", problem.GetProperty("detail").GetString());
        var error = Assert.Single(problem.GetProperty("errors").EnumerateArray());
        Assert.Equal(field, error.GetProperty("field").GetString());
        Assert.Equal("InvalidValue", error.GetProperty("rule").GetString());
        // The exception handler's answer, as for every binding failure: never cached.
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString() ?? "", StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("wait=0")]
    [InlineData("wait=-5")]
    [InlineData("wait=+0")]
    [InlineData("wait=%2B0")]
    [InlineData("other=1&wait=0&")]
    [InlineData("wait=0&other=2&wait=")]
    [InlineData("wait=0&unanswered=true")]
    [InlineData("wait=0&unanswered=False")]
    [InlineData("unanswered=&wait=0")]
    public async Task A_wait_the_framework_reads_as_a_whole_number_is_taken_and_clamped_with_an_unanswered_of_true_or_false(string query)
    {
        using var response = await PollAsync(query);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task A_poll_without_an_agents_credential_is_refused_with_the_agent_problem()
    {
        using var anonymous = await world.Host.Anonymous.PostAsync(new Uri("/agent/v1/poll?wait=0", UriKind.Relative), null);
        using var administrator = await world.Host.Client.PostAsync(new Uri("/agent/v1/poll?wait=0", UriKind.Relative), null);

        foreach (var response in new[] { anonymous, administrator })
        {
            var problem = await response.JsonAsync(HttpStatusCode.Unauthorized);
            Assert.Equal("AgentUnauthenticated", problem.GetProperty("rule").GetString());
            Assert.StartsWith("Agent", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_known_agents_idle_poll_is_answered_without_the_authorization_middleware_where_its_other_calls_are_not()
    {
        // The first poll may be the agent's first request since the start: it takes the full pipeline.
        using (await PollAsync("wait=0"))
        {
        }
        var before = world.Evaluations;
        for (var i = 0; i < 5; i++)
        {
            using var poll = await PollAsync("wait=0");
            Assert.Equal(HttpStatusCode.NoContent, poll.StatusCode);
        }
        var afterPolls = world.Evaluations;
        using (await world.Device.Agent.PostAsJsonAsync("/agent/v1/facts", new DeviceFacts { DeviceName = world.Device.DeviceName, OsVersion = "Windows 11", AgentVersion = "1" }, AgentProtocol.JsonOptions))
        {
        }

        Assert.Equal(before, afterPolls);
        Assert.True(world.Evaluations > afterPolls, "The counter counts: the agent's other calls go through the authorization middleware.");
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_the_poll_its_wait_and_its_answers()
    {
        var document = await world.Host.Client.GetJsonAsync("/openapi/v1.json");
        var poll = document.GetProperty("paths").GetProperty("/agent/v1/poll").GetProperty("post");

        Assert.Equal("PollForJob", poll.GetProperty("operationId").GetString());
        Assert.Equal(OpenApiSecurity.Agent, poll.GetProperty(OpenApiSecurity.RoleExtension).GetString());
        Assert.Equal(1, poll.GetProperty("security").GetArrayLength());
        var parameters = poll.GetProperty("parameters").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal(["unanswered", "wait"], parameters.Keys.Order());
        var wait = parameters["wait"];
        Assert.Equal("boolean", parameters["unanswered"].GetProperty("schema").GetProperty("type").GetString());
        Assert.Equal("query", parameters["unanswered"].GetProperty("in").GetString());
        Assert.Equal("query", wait.GetProperty("in").GetString());
        var schema = wait.GetProperty("schema");
        Assert.Contains(schema.GetProperty("type").EnumerateArray(), t => t.GetString() == "integer");
        Assert.Equal("int32", schema.GetProperty("format").GetString());
        var responses = poll.GetProperty("responses");
        Assert.True(responses.GetProperty("200").GetProperty("content").TryGetProperty("application/json", out _), responses.ToString());
        foreach (var status in new[] { "204", "205", "400", "401" })
        {
            Assert.True(responses.TryGetProperty(status, out _), $"no {status} answer described: {responses}");
        }
    }

    [Fact]
    public async Task A_held_poll_of_an_agent_revoked_meanwhile_answers_the_same_401_problem_as_before()
    {
        var device = await world.Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"), source: new { domainDnsName = "contoso.example" });
        using var _ = device;
        using (await device.Agent.PostAsync(new Uri("/agent/v1/poll?wait=0", UriKind.Relative), null))
        {
        }
        var signals = world.Host.App.Services.GetRequiredService<JobSignals>();
        var waiting = signals.Waiting;
        var held = device.Agent.PostAsync(new Uri($"/agent/v1/poll?wait={AgentProtocol.MaxPollSeconds}", UriKind.Relative), null);
        var clock = Stopwatch.StartNew();
        while (signals.Waiting == waiting)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), "Timed out waiting for the poll to wait");
            await Task.Delay(20);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await world.Host.Client.PostAsJsonAsync($"/api/v1/agents/{device.AgentId}/revoke", new { })).StatusCode);

        using var answer = await held;
        var problem = await answer.JsonAsync(HttpStatusCode.Unauthorized);
        Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
        Assert.Equal(401, problem.GetProperty("status").GetInt32());
        Assert.Equal("nosniff", answer.Headers.GetValues("X-Content-Type-Options").Single());
        using var after = await device.Agent.PostAsync(new Uri("/agent/v1/poll?wait=0", UriKind.Relative), null);
        Assert.Equal("AgentUnauthenticated", (await after.JsonAsync(HttpStatusCode.Unauthorized)).GetProperty("rule").GetString());
    }
}
