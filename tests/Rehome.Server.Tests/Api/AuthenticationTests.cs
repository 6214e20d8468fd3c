using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Api;

public sealed class AuthenticationTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    private ServerHost Host => server.Host;

    /// <remarks>
    /// Two endpoints take no token because they are how credentials are obtained: sign-in (a password) and agent
    /// enrollment (a configuration key). Without those they answer 401 like the rest.
    /// </remarks>
    [Fact]
    public async Task Every_endpoint_in_the_OpenAPI_document_requires_authentication()
    {
        var document = await Host.Client.GetJsonAsync("/openapi/v1.json");
        var checkedCount = 0;
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            var url = System.Text.RegularExpressions.Regex.Replace(path.Name, "{[^}]+}", Guid.NewGuid().ToString());
            foreach (var operation in path.Value.EnumerateObject())
            {
                using var request = new HttpRequestMessage(new HttpMethod(operation.Name.ToUpperInvariant()), url);
                if (operation.Name is "post" or "put")
                {
                    request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
                }
                var response = await Host.Anonymous.SendAsync(request);
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized,
                    $"{operation.Name.ToUpperInvariant()} {path.Name} answered {(int)response.StatusCode} without credentials");
                checkedCount++;
            }
        }
        Assert.True(checkedCount > 30, $"only {checkedCount} operations were found in the OpenAPI document");
    }

    [Fact]
    public async Task The_OpenAPI_document_itself_requires_authentication()
    {
        var response = await Host.Anonymous.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_wrong_password_gets_no_token()
    {
        var problem = await Host.Anonymous.PostJsonAsync("/api/v1/auth/token", new { userName = "admin", password = "wrong" }, HttpStatusCode.Unauthorized);

        Assert.Equal("InvalidCredentials", problem.GetProperty("rule").GetString());
    }

    [Fact]
    public async Task Sign_in_attempts_are_rate_limited()
    {
        await using var host = await ServerHost.StartAsync(StoreProvider.Sqlite, new() { ["Rehome:Auth:SignInsPerMinute"] = "3" });
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add((await host.Anonymous.PostAsJsonAsync("/api/v1/auth/token", new { userName = "admin", password = "guess" + i }, ServerHost.Json)).StatusCode);
        }

        // The host's own sign-in at start used one of the three.
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task A_revoked_token_is_refused_at_once_and_tokens_are_stored_hashed()
    {
        var created = await Host.Client.PostJsonAsync("/api/v1/tokens", new { name = "automation" });
        var token = created.GetProperty("token").GetString()!;
        using var client = new HttpClient { BaseAddress = Host.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal("admin", (await client.GetJsonAsync("/api/v1/auth/me")).GetProperty("userName").GetString());

        var list = await Host.Client.GetJsonAsync("/api/v1/tokens");
        Assert.DoesNotContain(token, list.GetRawText(), StringComparison.Ordinal);
        await using (var scope = Host.Scope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
            Assert.False(await db.ApiTokens.AnyAsync(t => t.TokenHash == token));
        }

        await Host.Client.DeleteAsync(new Uri($"/api/v1/tokens/{created.Id()}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync(new Uri("/api/v1/auth/me", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task An_expired_token_is_refused()
    {
        var created = await Host.Client.PostJsonAsync("/api/v1/tokens", new { name = "short", expiresInDays = 1 });
        using var client = new HttpClient { BaseAddress = Host.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", created.GetProperty("token").GetString());

        Host.Time.Advance(TimeSpan.FromDays(2));

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync(new Uri("/api/v1/auth/me", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task The_audit_log_says_who_did_what()
    {
        var name = ApiClient.Unique("audited");
        await Host.Client.PostJsonAsync("/api/v1/policies", new { name });

        var audit = await Host.Client.GetJsonAsync("/api/v1/audit?action=policy.create");

        var entry = audit.GetProperty("items").EnumerateArray().First(e => e.GetProperty("details").GetString()!.Contains(name, StringComparison.Ordinal));
        Assert.Equal("admin", entry.GetProperty("actor").GetString());
    }

    [Fact]
    public async Task A_new_password_must_be_complex_and_the_old_one_stops_working()
    {
        await using var host = await ServerHost.StartAsync(StoreProvider.Sqlite);
        var weak = await host.Client.PostJsonAsync("/api/v1/auth/password",
            new { currentPassword = ServerHost.AdminPassword, newPassword = "short" }, HttpStatusCode.BadRequest);
        Assert.Equal("PasswordComplexity", weak.GetProperty("rule").GetString());

        await host.Client.PostJsonAsync("/api/v1/auth/password",
            new { currentPassword = ServerHost.AdminPassword, newPassword = "A-much-Better-Passw0rd" }, HttpStatusCode.NoContent);

        var old = await host.Anonymous.PostJsonAsync("/api/v1/auth/token", new { userName = "admin", password = ServerHost.AdminPassword }, HttpStatusCode.Unauthorized);
        Assert.Equal(JsonValueKind.Object, old.ValueKind);
        Assert.False(string.IsNullOrEmpty(await host.SignInAsync("admin", "A-much-Better-Passw0rd")));
    }
}

/// <summary>
/// A user name no account can have is a failed sign-in like any other, on both stores: PostgreSQL refuses a NUL in a
/// query, and looking such a name up once answered 500.
/// </summary>
public abstract class SignInWithAnImpossibleNameSuite(ServerHost host)
{
    [Theory]
    [InlineData("ad\u0000min")]
    [InlineData("\u0000")]
    public async Task A_user_name_with_a_NUL_is_a_failed_sign_in(string userName)
    {
        var problem = await host.Anonymous.PostJsonAsync("/api/v1/auth/token", new { userName, password = "whatever" }, HttpStatusCode.Unauthorized);

        Assert.Equal("InvalidCredentials", problem.GetProperty("rule").GetString());
    }
}

public sealed class SignInWithAnImpossibleNameOnSqlite(SqliteServer server) : SignInWithAnImpossibleNameSuite(server.Host), IClassFixture<SqliteServer>;

public sealed class SignInWithAnImpossibleNameOnPostgres(PostgresServer server) : SignInWithAnImpossibleNameSuite(server.Host), IClassFixture<PostgresServer>;
