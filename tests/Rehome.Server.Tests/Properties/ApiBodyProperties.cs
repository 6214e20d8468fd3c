using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Properties;

/// <summary>
/// Every JSON body the API takes, from a valid example mutated the ways a careless or hostile client would: never a
/// 500, a 400 is problem+json whose errors name a field, and a refusal changes nothing in the store; on SQLite and
/// on PostgreSQL.
/// </summary>
public abstract class ApiBodyProperties(ServerHost host)
{
    private ServerHost Host => host;

    private const string FuzzPassword = "Fuzz-Rehome-Passw0rd-2026";

    /// <summary>The world the examples point into: a project with mappings, a run, accounts to change.</summary>
    private sealed record World(Guid Project, Guid OtherProject, Guid Source, Guid Destination, Guid Policy, Guid Mapping, Guid RunMapping, Guid Run, Guid Account, HttpClient Self, Guid Subscription = default);

    /// <summary>A valid body for each operation of the OpenAPI document that takes JSON, keyed "METHOD path".</summary>
    private static readonly Dictionary<string, Func<World, (string Url, JsonNode Body, bool Self)>> Examples = new(StringComparer.Ordinal)
    {
        ["POST /api/v1/auth/token"] = _ => ("/api/v1/auth/token", new JsonObject { ["userName"] = "admin", ["password"] = ServerHost.AdminPassword, ["tokenName"] = "fuzz", ["expiresInDays"] = 1 }, false),
        ["POST /api/v1/auth/password"] = _ => ("/api/v1/auth/password", new JsonObject { ["currentPassword"] = FuzzPassword, ["newPassword"] = FuzzPassword + "-next" }, true),
        ["POST /api/v1/tokens"] = _ => ("/api/v1/tokens", new JsonObject { ["name"] = ApiClient.Unique("token"), ["expiresInDays"] = 30, ["neverExpires"] = false, ["scope"] = "Viewer" }, false),
        ["POST /api/v1/accounts"] = w => ("/api/v1/accounts", new JsonObject
        {
            ["userName"] = ApiClient.Unique("user"),
            ["role"] = "Operator",
            ["password"] = FuzzPassword,
            ["projects"] = new JsonArray(w.Project.ToString()),
        }, false),
        ["PUT /api/v1/accounts/{id}"] = w => ($"/api/v1/accounts/{w.Account}", new JsonObject { ["role"] = "Operator", ["projects"] = new JsonArray(w.Project.ToString()) }, false),
        ["POST /api/v1/accounts/{id}/password"] = w => ($"/api/v1/accounts/{w.Account}/password", new JsonObject { ["newPassword"] = FuzzPassword }, false),
        ["POST /api/v1/projects"] = w => ("/api/v1/projects", Project(w, ApiClient.Unique("project")), false),
        ["PUT /api/v1/projects/{id}"] = w => ($"/api/v1/projects/{w.OtherProject}", Project(w, ApiClient.Unique("project")), false),
        ["POST /api/v1/projects/{projectId}/runs"] = w => ($"/api/v1/projects/{w.Project}/runs", Run(w), false),
        ["POST /api/v1/projects/{projectId}/runs/preview"] = w => ($"/api/v1/projects/{w.Project}/runs/preview", Run(w), false),
        ["POST /api/v1/runs/{id}/rerun"] = w => ($"/api/v1/runs/{w.Run}/rerun", new JsonObject { ["kinds"] = new JsonArray("RejoinDomain") }, false),
        ["POST /api/v1/policies"] = _ => ("/api/v1/policies", new JsonObject { ["name"] = ApiClient.Unique("policy") }, false),
        ["PUT /api/v1/policies/{id}"] = w => ($"/api/v1/policies/{w.Policy}", new JsonObject { ["name"] = ApiClient.Unique("policy") }, false),
        ["POST /api/v1/connections"] = _ => ("/api/v1/connections", JsonSerializer.SerializeToNode(ApiClient.DestinationConnection("ActiveDirectory", "Offline"))!, false),
        ["PUT /api/v1/connections/{id}"] = w => ($"/api/v1/connections/{w.Destination}", JsonSerializer.SerializeToNode(ApiClient.DestinationConnection("ActiveDirectory", "Offline"))!, false),
        ["POST /api/v1/projects/{projectId}/mappings"] = w => ($"/api/v1/projects/{w.Project}/mappings", Mapping("PC" + Guid.NewGuid().ToString("N")[..10]), false),
        ["PUT /api/v1/mappings/{id}"] = w => ($"/api/v1/mappings/{w.Mapping}", Mapping("PC" + Guid.NewGuid().ToString("N")[..10]), false),
        ["POST /api/v1/mappings/{id}/move"] = w => ($"/api/v1/mappings/{w.Mapping}/move", new JsonObject { ["projectId"] = w.OtherProject.ToString() }, false),
        ["POST /api/v1/projects/{projectId}/mappings/discover"] = w => ($"/api/v1/projects/{w.Project}/mappings/discover", new JsonObject
        {
            ["organizationalUnit"] = "OU=Workstations,DC=contoso,DC=example",
            ["includeChildOus"] = true,
            ["destinationNameFormat"] = "{name}",
            ["destinationOu"] = "OU=Migrated,DC=fabrikam,DC=example",
            ["includeDisabled"] = false,
        }, false),
        ["POST /api/v1/notifications/subscriptions"] = w => ("/api/v1/notifications/subscriptions", Subscription(w), false),
        ["PUT /api/v1/notifications/subscriptions/{id}"] = w => ($"/api/v1/notifications/subscriptions/{w.Subscription}", Subscription(w), false),
        ["POST /api/v1/projects/{projectId}/jobs/stop"] = w => ($"/api/v1/projects/{w.Project}/jobs/stop", new JsonObject
        {
            // Ids, not a filter: a mutated filter (an empty one) would stop the run the other examples use.
            ["mappingIds"] = new JsonArray(w.Mapping.ToString()),
        }, false),
        // Ids, not a filter, for the same reason: the selection's completed mappings (none here) go, the rest are counted as kept.
        ["POST /api/v1/projects/{id}/mappings/remove-completed"] = w => ($"/api/v1/projects/{w.Project}/mappings/remove-completed", new JsonObject
        {
            ["mappingIds"] = new JsonArray(w.Mapping.ToString()),
        }, false),
        ["POST /api/v1/projects/{id}/agents/uninstall"] = w => ($"/api/v1/projects/{w.Project}/agents/uninstall", new JsonObject
        {
            ["mappingIds"] = new JsonArray(w.Mapping.ToString()),
        }, false),
        // Clears the version agents should run (none is set in this world); a mutated id names no package.
        ["PUT /api/v1/agent-packages/current"] = _ => ("/api/v1/agent-packages/current", new JsonObject { ["packageId"] = null }, false),
        ["POST /api/v1/projects/{projectId}/readiness"] = w => ($"/api/v1/projects/{w.Project}/readiness", new JsonObject
        {
            ["kinds"] = new JsonArray("RejoinDomain"),
            ["mappingIds"] = new JsonArray(w.Mapping.ToString()),
            ["filter"] = new JsonObject { ["search"] = "PC" },
        }, false),
    };

    private static JsonObject Project(World w, string name) => new()
    {
        ["name"] = name,
        ["tags"] = new JsonArray("wave-1"),
        ["sourceConnectionId"] = w.Source.ToString(),
        ["destinationConnectionId"] = w.Destination.ToString(),
        ["policyId"] = w.Policy.ToString(),
    };

    private static JsonObject Subscription(World w) => new()
    {
        ["name"] = ApiClient.Unique("subscription"),
        ["projectId"] = w.Project.ToString(),
        ["events"] = new JsonArray("JobFailed", "RunFinished"),
        ["channel"] = "Webhook",
        ["webhookUrl"] = "https://hooks.example.com/rehome",
        ["webhookSecret"] = "fuzz-webhook-secret-0123",
        ["enabled"] = true,
    };

    private static JsonObject Run(World w) => new()
    {
        ["kinds"] = new JsonArray("RejoinDomain"),
        ["mappingIds"] = new JsonArray(w.RunMapping.ToString()),
        ["startAt"] = "2026-11-29T09:00:00Z",
        ["dryRun"] = false,
    };

    private static JsonObject Mapping(string device) => new()
    {
        ["sourceDevice"] = device,
        ["destinationName"] = device + "N",
        ["destinationOu"] = "OU=Migrated,DC=fabrikam,DC=example",
        ["primaryUser"] = "CONTOSO\\ann",
        ["destinationUser"] = "ann@fabrikam.example",
    };

    [Fact]
    public async Task Every_operation_that_takes_a_json_body_has_a_valid_example_here()
    {
        var operations = await JsonOperationsAsync();

        var missing = operations.Where(o => !Examples.ContainsKey(o)).ToList();
        Assert.True(missing.Count == 0, "Give these operations a valid example in ApiBodyProperties.Examples:\n" + string.Join("\n", missing));
        Assert.Empty(Examples.Keys.Except(operations));
    }

    [Fact]
    public async Task Each_valid_example_is_accepted_so_the_mutations_start_from_a_body_that_works()
    {
        var world = await WorldAsync();
        var refused = new List<string>();
        foreach (var (operation, example) in Examples)
        {
            var (url, body, self) = example(world);
            var method = new HttpMethod(operation.Split(' ')[0]);
            var response = await SendAsync(self ? world.Self : Host.Client, method, url, body.ToJsonString());
            // Discovery and readiness ask a directory the test server does not have: a refusal naming it is the answer.
            if (!response.IsSuccessStatusCode && !operation.Contains("discover", StringComparison.Ordinal))
            {
                refused.Add($"{operation}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }

        Assert.True(refused.Count == 0, string.Join("\n", refused));
    }

    [Fact]
    public async Task Mutated_bodies_never_get_a_500_a_400_names_the_field_and_a_refusal_changes_nothing()
    {
        var world = await WorldAsync();
        var operations = Examples.Keys.Order(StringComparer.Ordinal).ToArray();
        var cases = Gen.Select(Gen.Int[0, operations.Length - 1], JsonMutation.Gen, (operation, mutation) => (Operation: operations[operation], Mutation: mutation));

        await cases.SampleAsync(async input =>
        {
            var (url, body, self) = Examples[input.Operation](world);
            var text = input.Mutation.Apply(body);
            var before = await SnapshotAsync(input.Operation);

            var response = await SendAsync(self ? world.Self : Host.Client, new HttpMethod(input.Operation.Split(' ')[0]), url, text);

            await AssertAnswerAsync(response, before, $"{input.Operation} {Shown(text)}", () => SnapshotAsync(input.Operation));
        }, seed: "000000000011", iter: 300, threads: 1, print: input => $"{input.Operation} with {input.Mutation}");
    }

    /// <summary>The properties every answer to hostile input has: no 500, a named 400, nothing changed by a refusal.</summary>
    internal static async Task AssertAnswerAsync(HttpResponseMessage response, string before, string what, Func<Task<string>> fingerprint)
    {
        var status = (int)response.StatusCode;
        var answer = await response.Content.ReadAsStringAsync();
        Assert.True(status < 500, $"{what}: {status} {answer}");
        if (status < 400)
        {
            return;
        }
        if (status == 400)
        {
            Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{what}: a 400 that is not problem+json: {answer}");
            using var problem = JsonDocument.Parse(answer);
            Assert.True(problem.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0
                && errors.EnumerateArray().All(e => Named(e)), $"{what}: a 400 that names no field: {answer}");
        }
        Assert.True(before == await fingerprint(), $"{what}: refused with {status} but the store changed: {answer}");
    }

    /// <summary>The store's fingerprint; a failed sign-in is audited by design (who tried, from where), so there the audit log is left out.</summary>
    private async Task<string> SnapshotAsync(string operation)
    {
        var fingerprint = await Host.FingerprintAsync();
        return operation == "POST /api/v1/auth/token"
            ? string.Join('\n', fingerprint.Split('\n').Where(line => !line.StartsWith("audit_log:", StringComparison.Ordinal)))
            : fingerprint;
    }

    /// <summary>An error names a field (the API's errors) or a row (an import's).</summary>
    private static bool Named(JsonElement error) =>
        (error.TryGetProperty("field", out var field) && field.GetString() is { Length: > 0 })
        || (error.TryGetProperty("row", out var row) && row.ValueKind == JsonValueKind.Number);

    private static string Shown(string text) => text.Length > 300 ? text[..300] + $"… ({text.Length} characters)" : text;

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string url, string body)
    {
        using var request = new HttpRequestMessage(method, new Uri(url, UriKind.Relative))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        var response = await client.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    /// <summary>"METHOD path" of every operation the OpenAPI document lists with a JSON request body, agents' gateway aside.</summary>
    private async Task<List<string>> JsonOperationsAsync()
    {
        var document = await Host.Client.GetJsonAsync("/openapi/v1.json");
        var operations = new List<string>();
        foreach (var path in document.GetProperty("paths").EnumerateObject().Where(p => !p.Name.StartsWith("/agent/", StringComparison.Ordinal)))
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                if (operation.Value.TryGetProperty("requestBody", out var requestBody)
                    && requestBody.GetProperty("content").EnumerateObject().Any(c => c.Name.Contains("json", StringComparison.Ordinal)))
                {
                    operations.Add($"{operation.Name.ToUpperInvariant()} {path.Name}");
                }
            }
        }
        return operations;
    }

    private async Task<World> WorldAsync()
    {
        var client = Host.Client;
        var project = await client.CreateProjectAsync();
        var other = await client.CreateProjectAsync();
        var details = await client.GetJsonAsync($"/api/v1/projects/{project}");
        var mappings = await client.ImportDevicesAsync(project, ApiClient.Unique("F")[..8], 3);
        var run = await client.PostJsonAsync($"/api/v1/projects/{project}/runs",
            new { kinds = new[] { "RejoinDomain" }, mappingIds = new[] { mappings[2] } });
        // Stopped jobs are what a re-run starts again.
        (await client.PostAsync(new Uri($"/api/v1/runs/{run.GetProperty("run").Id()}/stop", UriKind.Relative), null)).EnsureSuccessStatusCode();
        var account = await client.PostJsonAsync("/api/v1/accounts", new { userName = ApiClient.Unique("victim"), role = "Viewer", password = FuzzPassword });
        var subscription = await client.PostJsonAsync("/api/v1/notifications/subscriptions", new
        {
            name = ApiClient.Unique("subscription"),
            events = new[] { "JobFailed" },
            channel = "Webhook",
            webhookUrl = "https://hooks.example.com/x",
            webhookSecret = "fuzz-webhook-secret-0123",
        });
        // The password change acts on the caller: an account of its own, so the administrator's token stays.
        var selfName = ApiClient.Unique("self");
        await client.PostJsonAsync("/api/v1/accounts", new { userName = selfName, role = "Viewer", password = FuzzPassword });
        var self = new HttpClient { BaseAddress = Host.BaseAddress };
        self.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await Host.SignInAsync(selfName, FuzzPassword));
        // A token's first use records when it was used: done here, so that it is not counted as a refusal's write.
        (await self.GetAsync(new Uri("/api/v1/projects", UriKind.Relative))).EnsureSuccessStatusCode();
        return new World(project, other, details.GetProperty("sourceConnectionId").GetGuid(), details.GetProperty("destinationConnectionId").GetGuid(),
            details.GetProperty("policyId").GetGuid(), mappings[0], mappings[1], run.GetProperty("run").Id(), account.Id(), self, subscription.Id());
    }
}

public sealed class ApiBodyPropertiesOnSqlite(SqliteServer server) : ApiBodyProperties(server.Host), IClassFixture<SqliteServer>;

public sealed class ApiBodyPropertiesOnPostgres(PostgresServer server) : ApiBodyProperties(server.Host), IClassFixture<PostgresServer>;
