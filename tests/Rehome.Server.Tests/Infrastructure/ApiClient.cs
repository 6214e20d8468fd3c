using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Rehome.Server.Tests.Infrastructure;

/// <summary>Small helpers over HttpClient that read JSON answers and set up connections, policies and projects.</summary>
public static class ApiClient
{
    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {expected}, got {(int)response.StatusCode} {response.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public static async Task<JsonElement> PostJsonAsync(this HttpClient client, string url, object body, HttpStatusCode expected = HttpStatusCode.Created) =>
        await (await client.PostAsJsonAsync(url, body, ServerHost.Json)).JsonAsync(expected);

    public static async Task<JsonElement> GetJsonAsync(this HttpClient client, string url, HttpStatusCode expected = HttpStatusCode.OK) =>
        await (await client.GetAsync(new Uri(url, UriKind.Relative))).JsonAsync(expected);

    public static async Task<JsonElement> PostCsvAsync(this HttpClient client, string url, string csv, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var content = new StringContent(csv, Encoding.UTF8, "text/csv");
        return await (await client.PostAsync(new Uri(url, UriKind.Relative), content)).JsonAsync(expected);
    }

    public static Guid Id(this JsonElement element) => element.GetProperty("id").GetGuid();

    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>A source (optionally with Entra ID enabled), a destination of the given kind, a default policy and a project.</summary>
    public static async Task<Guid> CreateProjectAsync(
        this HttpClient client, string destinationKind = "ActiveDirectory", string rejoinMethod = "Offline", bool sourceEntraId = false)
    {
        var source = await client.PostJsonAsync("/api/v1/connections", new
        {
            name = Unique("src"),
            role = "Source",
            kind = "HybridIdentity",
            source = sourceEntraId
                ? new { entraId = new { tenantId = Guid.NewGuid(), clientId = Guid.NewGuid(), clientSecret = "entra-secret-value", enabled = true } }
                : null,
        });
        var destination = await client.PostJsonAsync("/api/v1/connections", DestinationConnection(destinationKind, rejoinMethod));
        var policy = await client.PostJsonAsync("/api/v1/policies", new { name = Unique("policy") });
        var project = await client.PostJsonAsync("/api/v1/projects", new
        {
            name = Unique("project"),
            tags = new[] { "wave-1" },
            sourceConnectionId = source.GetProperty("connection").Id(),
            destinationConnectionId = destination.GetProperty("connection").Id(),
            policyId = policy.Id(),
        });
        return project.Id();
    }

    /// <summary>
    /// A destination connection to create: Entra ID (its package uploaded separately), or an Active Directory or
    /// Hybrid Identity domain with a service account.
    /// </summary>
    public static object DestinationConnection(string kind, string rejoinMethod) => new
    {
        name = Unique("dst"),
        role = "Destination",
        kind,
        destination = kind == "EntraId"
            ? new { rejoinMethod, bulkEnrollmentTokenExpiresAt = "2027-06-01T00:00:00Z" }
            : (object)new
            {
                domainDnsName = "fabrikam.example",
                targetOu = "OU=Migrated,DC=fabrikam,DC=example",
                rejoinMethod,
                serviceAccountName = "FABRIKAM\\svc-join",
                serviceAccountPassword = "svc-join-password",
            },
    };

    /// <summary>Imports devices named <c>{prefix}0001</c>… with users, and returns their mapping ids in order.</summary>
    public static async Task<List<Guid>> ImportDevicesAsync(this HttpClient client, Guid projectId, string prefix, int count)
    {
        var csv = new StringBuilder("SourceDevice,DestinationName,DestinationOU,PrimaryUser,DestinationUser\n");
        for (var i = 1; i <= count; i++)
        {
            csv.Append($"{prefix}{i:D4},,,CONTOSO\\user{i},user{i}@fabrikam.example\n");
        }
        await client.PostCsvAsync($"/api/v1/projects/{projectId}/mappings/import", csv.ToString());
        var page = await client.GetJsonAsync($"/api/v1/projects/{projectId}/mappings?search={prefix}&pageSize=1000");
        return page.GetProperty("items").EnumerateArray().Select(m => m.Id()).ToList();
    }

    /// <summary>Gives a project another name (its connections and policy stay).</summary>
    public static async Task RenameProjectAsync(this HttpClient client, Guid projectId, string name)
    {
        var project = await client.GetJsonAsync($"/api/v1/projects/{projectId}");
        var answer = await client.PutAsJsonAsync($"/api/v1/projects/{projectId}", new
        {
            name,
            tags = project.GetProperty("tags"),
            sourceConnectionId = project.GetProperty("sourceConnectionId").GetGuid(),
            destinationConnectionId = project.GetProperty("destinationConnectionId").GetGuid(),
            policyId = project.GetProperty("policyId").GetGuid(),
        }, ServerHost.Json);
        await answer.JsonAsync(HttpStatusCode.OK);
    }
}
