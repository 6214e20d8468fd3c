using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Server.Api;
using Rehome.Server.Auth;
using Rehome.Server.Observability;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Api;

/// <summary>
/// One server with a credential of every kind: an account of each role, a token scoped narrower than its
/// account, a revoked, an expired and a disabled account's token, a malformed one, an agent's credential, and
/// a console cookie, and the metrics scraper's token.
/// </summary>
public sealed class AuthorizationWorld : IAsyncLifetime
{
    public ServerHost Host { get; private set; } = null!;

    /// <summary>Credential kind → how it is sent, and the role it carries (null: it authenticates nobody here).</summary>
    public List<Credential> Credentials { get; } = [];

    public string AgentCredential { get; private set; } = "";

    /// <summary>The scraper's token: it opens <c>/metrics</c> and nothing else.</summary>
    public const string MetricsToken = "matrix-metrics-token-5be0c1d7a9f24e68";

    /// <summary>A client that follows no redirect (a console refusal is a redirect to its page) and holds no credential of its own.</summary>
    public HttpClient Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Host = await ServerHost.StartAsync(StoreProvider.Sqlite, new()
        {
            ["Rehome:Metrics:TokenHash"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(MetricsToken))),
        });
        Browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = Host.BaseAddress };
        foreach (var role in Enum.GetValues<Role>())
        {
            var account = await Host.CreateAsync(role);
            Credentials.Add(new Credential($"{role} token", "Bearer", account.Token, role));
        }
        var administrator = await Host.CreateAsync(Role.Administrator);
        var scoped = await administrator.Client(Host).PostJsonAsync("/api/v1/tokens", new { name = "viewer only", scope = "Viewer" });
        Credentials.Add(new Credential("administrator's token scoped to Viewer", "Bearer", scoped.GetProperty("token").GetString()!, Role.Viewer));
        Credentials.Add(new Credential("no credential", null, null, null));
        Credentials.Add(new Credential("unknown token", "Bearer", "rht_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24)), null));
        Credentials.Add(new Credential("not a Rehome token", "Bearer", "eyJhbGciOiJub25lIn0.e30.", null));
        Credentials.Add(new Credential("revoked token", "Bearer", (await Host.CreateAsync(Role.Administrator, revoked: true)).Token, null));
        var past = Host.Time.GetUtcNow().AddMinutes(-1);
        Credentials.Add(new Credential("expired token", "Bearer", (await Host.CreateAsync(Role.Administrator, tokenExpiresAt: past)).Token, null));
        Credentials.Add(new Credential("disabled account's token", "Bearer", (await Host.CreateAsync(Role.Administrator, disabled: true)).Token, null));

        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        AgentCredential = device.Agent.DefaultRequestHeaders.Authorization!.Parameter!;
        Credentials.Add(new Credential("agent credential", "Agent", AgentCredential, null));
        // A signed-in browser's cookies (the antiforgery cookie too, but no antiforgery field or header).
        Credentials.Add(new Credential("console cookie without antiforgery", "Cookie", await Host.ConsoleCookiesAsync(administrator.UserName, administrator.Password), null));
        Credentials.Add(new Credential("metrics token", "Bearer", MetricsToken, null));

        // Each token's first use stamps its last use; from here on the clock stands still, so nothing does.
        foreach (var credential in Credentials)
        {
            using var warmUp = credential.Request(HttpMethod.Get, "/api/v1/auth/me");
            await Browser.SendAsync(warmUp);
        }
    }

    public async Task DisposeAsync()
    {
        Browser.Dispose();
        await Host.DisposeAsync();
    }
}

public sealed record Credential(string Kind, string? Scheme, string? Value, Role? Role)
{
    public HttpRequestMessage Request(HttpMethod method, string url, string? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        if (Scheme == "Cookie")
        {
            request.Headers.Add("Cookie", Value);
        }
        else if (Scheme is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue(Scheme, Value);
        }
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        return request;
    }

    public override string ToString() => Kind;
}

/// <summary>
/// Issue 12's authorization matrix: every operation of the OpenAPI document and every agent gateway route, with
/// every kind of credential, gets its designed answer, and a refused call changes nothing in the store. An
/// operation that declares no role fails it by name.
/// </summary>
public sealed partial class AuthorizationMatrixTests(AuthorizationWorld world) : IClassFixture<AuthorizationWorld>
{
    private ServerHost Host => world.Host;

    private sealed record Operation(string Method, string Path, string Role, string? ContentType = null)
    {
        public override string ToString() => $"{Method} {Path} ({Role})";
    }

    [Fact]
    public void Every_API_endpoint_declares_its_role_or_that_it_is_open()
    {
        var undeclared = RouteEndpoints()
            .Where(e => e.Pattern.StartsWith("/api/v1", StringComparison.Ordinal) || e.Pattern.StartsWith("/agent/v1", StringComparison.Ordinal))
            .Where(e => OpenApiSecurity.Declared(e.Endpoint.Metadata).Role is null)
            .Select(e => $"{e.Method} {e.Pattern}")
            .ToList();

        Assert.True(undeclared.Count == 0, "Endpoints without a declared role (add .RequireRole(...)): " + string.Join(", ", undeclared));
    }

    [Fact]
    public void Every_endpoint_of_the_server_says_who_may_call_it()
    {
        var undeclared = RouteEndpoints()
            .Where(e => e.Endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null && e.Endpoint.Metadata.GetMetadata<IAuthorizeData>() is null)
            // Static assets' development fallback (files added after the build): the framework maps it without
            // conventions; refused, as it was before roles (the console's files are in the manifest).
            .Where(e => e.Endpoint.DisplayName != "Fallback {**path:file}")
            .Select(e => $"{e.Method} {e.Pattern} ({e.Endpoint.DisplayName})")
            .ToList();

        Assert.True(undeclared.Count == 0, "Endpoints left to the fallback (refused to everybody): " + string.Join(", ", undeclared));
    }

    [Fact]
    public async Task A_body_of_the_wrong_media_type_is_answered_415_not_refused()
    {
        var operator_ = world.Credentials.Single(c => c.Kind == "Operator token");
        using var request = operator_.Request(HttpMethod.Post, $"/api/v1/projects/{Guid.NewGuid()}/mappings/import", "{}");

        using var response = await world.Browser.SendAsync(request);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task An_endpoint_that_declares_nothing_is_refused_even_to_an_administrator()
    {
        // The fallback policy applies to endpoints without any authorization metadata: it must admit nobody.
        var options = Host.App.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<AuthorizationOptions>>().Value;
        var authorization = Host.App.Services.GetRequiredService<IAuthorizationService>();
        var administrator = AdministratorPrincipal();

        var declared = await authorization.AuthorizeAsync(administrator, RoleAuthorization.PolicyFor(Role.Administrator));
        var undeclared = await authorization.AuthorizeAsync(administrator, null, options.FallbackPolicy!);

        Assert.True(declared.Succeeded);
        Assert.False(undeclared.Succeeded);
    }

    [Fact]
    public async Task Every_operation_declares_its_role_and_security_scheme_in_the_OpenAPI_document()
    {
        var operations = await OperationsAsync();
        var document = await Host.Client.GetJsonAsync("/openapi/v1.json");
        var schemes = document.GetProperty("components").GetProperty("securitySchemes");

        Assert.True(schemes.TryGetProperty(OpenApiSecurity.TokenScheme, out var bearer), "the token scheme is not declared");
        Assert.Equal("bearer", bearer.GetProperty("scheme").GetString());
        Assert.True(operations.Count > 40, $"only {operations.Count} operations were found in the OpenAPI document");
        AssertAllDeclared(operations);
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var role = operation.Value.GetProperty(OpenApiSecurity.RoleExtension).GetString();
                if (role is not OpenApiSecurity.Anonymous)
                {
                    Assert.True(operation.Value.TryGetProperty("security", out var security) && security.GetArrayLength() == 1,
                        $"{operation.Name} {path.Name} declares no security requirement");
                }
            }
        }
    }

    [Fact]
    public async Task The_revert_of_a_job_is_in_the_matrix_as_an_operator_operation()
    {
        var operations = await OperationsAsync();

        Assert.Contains(operations, o => o is { Method: "POST", Path: "/api/v1/jobs/{id}/revert" } && o.Role == Role.Operator.ToString());
    }

    [Fact]
    public async Task The_reports_are_in_the_matrix_for_viewers_and_the_audit_export_for_auditors()
    {
        var operations = await OperationsAsync();

        foreach (var path in new[] { "/api/v1/runs/{id}/report", "/api/v1/runs/{id}/report.csv", "/api/v1/projects/{id}/report", "/api/v1/projects/{id}/report.csv" })
        {
            Assert.Contains(operations, o => o.Method == "GET" && o.Path == path && o.Role == Role.Viewer.ToString());
        }
        Assert.Contains(operations, o => o is { Method: "GET", Path: "/api/v1/audit/export.csv" } && o.Role == Role.Auditor.ToString());
    }

    [Fact]
    public async Task Every_operation_answers_each_credential_as_designed_and_a_refusal_changes_nothing()
    {
        var operations = await OperationsAsync();
        AssertAllDeclared(operations);
        var unexpected = new List<string>();
        var before = await FingerprintAsync();
        var refused = 0;

        foreach (var operation in operations.Where(o => o.Role is not (OpenApiSecurity.Anonymous or OpenApiSecurity.Agent)))
        {
            foreach (var credential in world.Credentials)
            {
                var designed = Designed(operation.Role, credential);
                if (designed is null)
                {
                    continue;
                }
                var status = await SendAsync(operation, credential);
                if (status != designed)
                {
                    unexpected.Add($"{operation} with {credential}: {(int)status}, designed {(int)designed}");
                }
                refused++;
            }
        }
        var after = await FingerprintAsync();

        Assert.True(unexpected.Count == 0, string.Join("\n", unexpected));
        Assert.True(refused > 300, $"only {refused} refused calls were made");
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task Every_operation_admits_each_role_that_covers_its_own()
    {
        var operations = await OperationsAsync();
        var unexpected = new List<string>();

        foreach (var operation in operations.Where(o => o.Role is not (OpenApiSecurity.Anonymous or OpenApiSecurity.Agent)))
        {
            foreach (var credential in world.Credentials.Where(c => Designed(operation.Role, c) is null))
            {
                var (status, body) = await SendForBodyAsync(operation, credential);
                if (status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                {
                    unexpected.Add($"{operation} with {credential}: {(int)status} {body}");
                }
            }
        }

        Assert.True(unexpected.Count == 0, string.Join("\n", unexpected));
    }

    [Fact]
    public async Task The_open_operations_answer_alike_whatever_credential_comes_with_them()
    {
        var open = (await OperationsAsync()).Where(o => o.Role == OpenApiSecurity.Anonymous).ToList();

        Assert.Contains(open, o => o.Path == "/api/v1/auth/token");
        foreach (var operation in open)
        {
            var anonymous = await SendAsync(operation, world.Credentials.Single(c => c.Scheme is null));
            foreach (var credential in world.Credentials)
            {
                Assert.Equal(anonymous, await SendAsync(operation, credential));
            }
        }
    }

    [Fact]
    public async Task The_agent_gateway_admits_only_an_agent_credential_and_a_refusal_changes_nothing()
    {
        var gateway = RouteEndpoints()
            .Where(e => e.Pattern.StartsWith("/agent/v1", StringComparison.Ordinal))
            .Where(e => OpenApiSecurity.Declared(e.Endpoint.Metadata).Role == OpenApiSecurity.Agent)
            .Select(e => new Operation(e.Method, e.Pattern, OpenApiSecurity.Agent))
            .ToList();
        Assert.True(gateway.Count >= 9, $"only {gateway.Count} gateway routes were found");
        var before = await FingerprintAsync();
        var unexpected = new List<string>();

        foreach (var operation in gateway)
        {
            foreach (var credential in world.Credentials.Where(c => c.Scheme != "Agent"))
            {
                var status = await SendAsync(operation, credential);
                if (status != HttpStatusCode.Unauthorized)
                {
                    unexpected.Add($"{operation} with {credential}: {(int)status}");
                }
            }
        }
        var after = await FingerprintAsync();
        var agent = world.Credentials.Single(c => c.Scheme == "Agent");
        var admitted = await SendAsync(new Operation("POST", "/agent/v1/facts", OpenApiSecurity.Agent), agent);

        Assert.True(unexpected.Count == 0, string.Join("\n", unexpected));
        Assert.Equal(before, after);
        Assert.NotEqual(HttpStatusCode.Unauthorized, admitted);
        Assert.NotEqual(HttpStatusCode.Forbidden, admitted);
    }

    [Fact]
    public async Task The_metrics_endpoint_admits_only_the_metrics_token()
    {
        var metrics = RouteEndpoints()
            .Where(e => e.Endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy == MetricsAuthenticationHandler.PolicyName))
            .Select(e => e.Pattern)
            .ToList();
        var unexpected = new List<string>();

        foreach (var credential in world.Credentials.Where(c => c.Value != AuthorizationWorld.MetricsToken))
        {
            using var request = credential.Request(HttpMethod.Get, ObservabilityServiceCollectionExtensions.MetricsPath);
            using var response = await world.Browser.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.Unauthorized)
            {
                unexpected.Add($"{credential}: {(int)response.StatusCode}");
            }
        }
        using var scrape = world.Credentials.Single(c => c.Value == AuthorizationWorld.MetricsToken).Request(HttpMethod.Get, ObservabilityServiceCollectionExtensions.MetricsPath);
        using var admitted = await world.Browser.SendAsync(scrape);

        Assert.Equal([ObservabilityServiceCollectionExtensions.MetricsPath], metrics);
        Assert.True(unexpected.Count == 0, string.Join("\n", unexpected));
        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
    }

    [Fact]
    public async Task A_console_form_post_without_its_antiforgery_field_is_refused()
    {
        var cookie = world.Credentials.Single(c => c.Scheme == "Cookie");
        using var request = cookie.Request(HttpMethod.Post, "/account/sign-out");
        request.Content = new FormUrlEncodedContent(new Dictionary<string, string>());

        using var response = await world.Browser.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    /// <summary>The matrix fails naming each operation that declares no role.</summary>
    private static void AssertAllDeclared(List<Operation> operations)
    {
        var undeclared = operations.Where(o => o.Role == "(none)").Select(o => $"{o.Method} {o.Path}").ToList();
        Assert.True(undeclared.Count == 0, "Operations without a declared role (add .RequireRole(...)): " + string.Join(", ", undeclared));
    }

    /// <summary>
    /// The designed refusal of <paramref name="credential"/> on an operation needing <paramref name="role"/>:
    /// 401 for what authenticates nobody under /api/v1 (agents' credentials and console cookies included),
    /// 403 for a role that does not cover the operation's; null when it is admitted.
    /// </summary>
    private static HttpStatusCode? Designed(string role, Credential credential)
    {
        if (credential.Role is not { } held)
        {
            return HttpStatusCode.Unauthorized;
        }
        if (role == "AnySignedIn")
        {
            return null;
        }
        return Roles.Covers(held, Enum.Parse<Role>(role)) ? null : HttpStatusCode.Forbidden;
    }

    private async Task<HttpStatusCode> SendAsync(Operation operation, Credential credential) => (await SendForBodyAsync(operation, credential)).Status;

    /// <summary>
    /// Sends the operation with random ids and a minimal body of the media type it declares (an empty JSON object,
    /// or an empty CSV or file); the answer's status and text.
    /// </summary>
    private async Task<(HttpStatusCode Status, string Body)> SendForBodyAsync(Operation operation, Credential credential)
    {
        var url = PathParameter().Replace(operation.Path, m => m.Value == "{purpose}" ? "destination" : Guid.NewGuid().ToString());
        var body = operation.Method is "POST" or "PUT" or "PATCH" ? "{}" : null;
        using var request = credential.Request(new HttpMethod(operation.Method), url, body);
        if (body is not null && operation.ContentType is { } declared && !declared.Contains("json", StringComparison.Ordinal))
        {
            request.Content = new StringContent("", Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(declared);
        }
        using var response = await world.Browser.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<List<Operation>> OperationsAsync()
    {
        var document = await Host.Client.GetJsonAsync("/openapi/v1.json");
        var operations = new List<Operation>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var role = operation.Value.TryGetProperty(OpenApiSecurity.RoleExtension, out var declared) ? declared.GetString()! : "(none)";
                var contentType = operation.Value.TryGetProperty("requestBody", out var requestBody) && requestBody.TryGetProperty("content", out var content)
                    ? content.EnumerateObject().Select(c => c.Name).FirstOrDefault()
                    : null;
                operations.Add(new Operation(operation.Name.ToUpperInvariant(), path.Name, role, contentType));
            }
        }
        return operations;
    }

    private IEnumerable<(string Method, string Pattern, Endpoint Endpoint)> RouteEndpoints() =>
        Host.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"])
                .Select(m => (m, "/" + e.RoutePattern.RawText!.TrimStart('/'), (Endpoint)e)));

    /// <summary>Every row of every table, hashed: equal fingerprints mean nothing was added, changed or removed.</summary>
    private Task<string> FingerprintAsync() => Host.FingerprintAsync();

    private static System.Security.Claims.ClaimsPrincipal AdministratorPrincipal() => new(new System.Security.Claims.ClaimsIdentity(
        [
            new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.NameIdentifier, Guid.NewGuid().ToString()),
            new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.Role, nameof(Role.Administrator)),
        ], "Bearer"));

    [GeneratedRegex("{[^}]+}")]
    private static partial Regex PathParameter();
}
