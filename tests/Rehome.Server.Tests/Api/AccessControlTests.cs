using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Server.Administration;
using Rehome.Server.Auth;
using Rehome.Server.Console;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Api;

/// <summary>Project limits (what an account limited to some projects sees and changes), token scopes, and the console's pages by role.</summary>
public sealed class AccessControlTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    private ServerHost Host => server.Host;

    private Task<(Guid Project, Guid Mapping)> ProjectWithMappingAsync() => ProjectWithMappingAsync(Host);

    private static async Task<(Guid Project, Guid Mapping)> ProjectWithMappingAsync(ServerHost host)
    {
        var project = await host.Client.CreateProjectAsync();
        var mapping = await host.Client.PostJsonAsync($"/api/v1/projects/{project}/mappings", new { sourceDevice = ApiClient.Unique("PC") });
        return (project, mapping.Id());
    }

    [Fact]
    public Task A_limited_account_lists_only_its_projects_and_finds_no_other() => LimitedListingAsync(Host);

    /// <summary>What an operator limited to one of two projects sees (SQLite here, PostgreSQL in <see cref="ProjectLimitsOnPostgres"/>).</summary>
    internal static async Task LimitedListingAsync(ServerHost host)
    {
        var (mine, _) = await ProjectWithMappingAsync(host);
        var (other, otherMapping) = await ProjectWithMappingAsync(host);
        var account = await host.CreateAsync(Role.Operator, [mine]);
        using var client = account.Client(host);

        var listed = await client.GetJsonAsync("/api/v1/projects");

        Assert.Equal([mine], listed.EnumerateArray().Select(p => p.Id()));
        await client.GetJsonAsync($"/api/v1/projects/{mine}/mappings");
        await client.GetJsonAsync($"/api/v1/projects/{other}", HttpStatusCode.NotFound);
        await client.GetJsonAsync($"/api/v1/projects/{other}/mappings", HttpStatusCode.NotFound);
        await client.GetJsonAsync($"/api/v1/projects/{other}/mappings/export", HttpStatusCode.NotFound);
        await client.GetJsonAsync($"/api/v1/mappings/{otherMapping}", HttpStatusCode.NotFound);
        await client.GetJsonAsync($"/api/v1/mappings/{otherMapping}/report", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_limited_account_changes_nothing_in_another_project()
    {
        var (mine, myMapping) = await ProjectWithMappingAsync();
        var (other, otherMapping) = await ProjectWithMappingAsync();
        var account = await Host.CreateAsync(Role.Operator, [mine]);
        using var client = account.Client(Host);

        var deleted = await client.DeleteAsync(new Uri($"/api/v1/mappings/{otherMapping}", UriKind.Relative));
        var started = await client.PostAsJsonAsync($"/api/v1/projects/{other}/runs", new { kinds = new[] { "RejoinDomain" }, mappingIds = new[] { otherMapping } }, ServerHost.Json);
        var imported = await client.PostCsvAsync($"/api/v1/projects/{other}/mappings/import", "SourceDevice\nPC-INTRUDER\n", HttpStatusCode.NotFound);
        var moved = await client.PostJsonAsync($"/api/v1/mappings/{myMapping}/move", new { projectId = other }, HttpStatusCode.BadRequest);
        var projectDeleted = await client.DeleteAsync(new Uri($"/api/v1/projects/{other}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, started.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, projectDeleted.StatusCode);
        Assert.Equal("projectId", moved.GetProperty("errors")[0].GetProperty("field").GetString());
        var stillThere = await Host.Client.GetJsonAsync($"/api/v1/projects/{other}/mappings");
        Assert.Equal([otherMapping], stillThere.GetProperty("items").EnumerateArray().Select(m => m.Id()));
        Assert.Empty((await Host.Client.GetJsonAsync($"/api/v1/projects/{other}/runs")).GetProperty("items").EnumerateArray());
        Assert.Equal(mine, (await Host.Client.GetJsonAsync($"/api/v1/mappings/{myMapping}")).GetProperty("projectId").GetGuid());
    }

    [Fact]
    public async Task A_limited_account_cannot_create_a_project()
    {
        var (mine, _) = await ProjectWithMappingAsync();
        var existing = await Host.Client.GetJsonAsync($"/api/v1/projects/{mine}");
        var account = await Host.CreateAsync(Role.Operator, [mine]);
        using var client = account.Client(Host);

        var refused = await client.PostJsonAsync("/api/v1/projects", new
        {
            name = ApiClient.Unique("project"),
            sourceConnectionId = existing.GetProperty("sourceConnectionId").GetGuid(),
            destinationConnectionId = existing.GetProperty("destinationConnectionId").GetGuid(),
            policyId = existing.GetProperty("policyId").GetGuid(),
        }, HttpStatusCode.Forbidden);

        Assert.Equal("ProjectLimited", refused.GetProperty("rule").GetString());
    }

    [Fact]
    public async Task A_token_an_account_makes_inherits_its_project_limits()
    {
        var (mine, _) = await ProjectWithMappingAsync();
        var (other, _) = await ProjectWithMappingAsync();
        var account = await Host.CreateAsync(Role.Operator, [mine]);
        using var client = account.Client(Host);
        var created = await client.PostJsonAsync("/api/v1/tokens", new { name = "automation", scope = "Viewer" });
        using var automation = Host.ClientWith(created.GetProperty("token").GetString()!);

        var listed = await automation.GetJsonAsync("/api/v1/projects");

        Assert.Equal([mine], listed.EnumerateArray().Select(p => p.Id()));
        await automation.GetJsonAsync($"/api/v1/projects/{other}", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_token_scoped_to_viewer_reads_but_changes_nothing_and_its_list_shows_the_scope()
    {
        var (project, _) = await ProjectWithMappingAsync();
        var account = await Host.CreateAsync(Role.Administrator);
        using var client = account.Client(Host);
        var created = await client.PostJsonAsync("/api/v1/tokens", new { name = "read only", scope = "viewer" });
        using var viewer = Host.ClientWith(created.GetProperty("token").GetString()!);

        await viewer.GetJsonAsync($"/api/v1/projects/{project}");
        var changed = await viewer.DeleteAsync(new Uri($"/api/v1/projects/{project}", UriKind.Relative));
        var tokens = await client.GetJsonAsync("/api/v1/tokens");

        Assert.Equal(HttpStatusCode.Forbidden, changed.StatusCode);
        await Host.Client.GetJsonAsync($"/api/v1/projects/{project}");
        Assert.Equal("Viewer", created.GetProperty("scope").GetString());
        Assert.Equal("Viewer", tokens.EnumerateArray().Single(t => t.Id() == created.Id()).GetProperty("scope").GetString());
    }

    [Theory]
    [InlineData("Administrator")]
    [InlineData("Auditor")]
    [InlineData("Superuser")]
    [InlineData("0")]
    public async Task A_scope_the_callers_role_does_not_cover_is_refused_naming_scope(string scope)
    {
        var account = await Host.CreateAsync(Role.Operator);
        using var client = account.Client(Host);

        var refused = await client.PostJsonAsync("/api/v1/tokens", new { name = "wider", scope }, HttpStatusCode.BadRequest);

        Assert.Equal("scope", refused.GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.Single((await client.GetJsonAsync("/api/v1/tokens")).EnumerateArray());
    }

    [Fact]
    public async Task A_project_an_account_is_limited_to_cannot_be_deleted_so_the_limit_never_vanishes()
    {
        var (mine, _) = await ProjectWithMappingAsync();
        var (other, _) = await ProjectWithMappingAsync();
        var account = await Host.CreateAsync(Role.Operator, [mine]);
        using var client = account.Client(Host);

        var byItself = await client.DeleteAsync(new Uri($"/api/v1/projects/{mine}", UriKind.Relative));
        var byAnAdministrator = await Host.Client.DeleteAsync(new Uri($"/api/v1/projects/{mine}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Conflict, byItself.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, byAnAdministrator.StatusCode);
        Assert.Contains("ProjectInAccountLimits", await byAnAdministrator.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await client.GetJsonAsync($"/api/v1/projects/{other}", HttpStatusCode.NotFound);
        Assert.Equal([mine], (await client.GetJsonAsync("/api/v1/projects")).EnumerateArray().Select(p => p.Id()));
    }

    [Fact]
    public async Task A_limited_account_discovers_computers_only_in_the_sources_of_its_projects()
    {
        var (mine, _) = await ProjectWithMappingAsync();
        var (other, _) = await ProjectWithMappingAsync();
        var account = await Host.CreateAsync(Role.Operator, [mine]);
        using var client = account.Client(Host);
        var mySource = (await Host.Client.GetJsonAsync($"/api/v1/projects/{mine}")).GetProperty("sourceConnectionId").GetGuid();
        var otherSource = (await Host.Client.GetJsonAsync($"/api/v1/projects/{other}")).GetProperty("sourceConnectionId").GetGuid();

        var elsewhere = await client.GetAsync(new Uri($"/api/v1/connections/{otherSource}/computers", UriKind.Relative));
        var own = await client.GetAsync(new Uri($"/api/v1/connections/{mySource}/computers", UriKind.Relative));

        Assert.NotEqual(mySource, otherSource);
        Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);
        Assert.NotEqual(HttpStatusCode.NotFound, own.StatusCode);
    }

    [Fact]
    public async Task Importing_a_device_mapped_in_a_project_the_account_cannot_see_is_a_conflict_not_a_failure()
    {
        var (mine, _) = await ProjectWithMappingAsync();
        var (other, _) = await ProjectWithMappingAsync();
        var device = ApiClient.Unique("PC");
        await Host.Client.PostJsonAsync($"/api/v1/projects/{other}/mappings", new { sourceDevice = device });
        var account = await Host.CreateAsync(Role.Operator, [mine]);
        using var client = account.Client(Host);

        using var csv = new StringContent($"SourceDevice\n{device}\n", System.Text.Encoding.UTF8, "text/csv");
        var imported = await client.PostAsync(new Uri($"/api/v1/projects/{mine}/mappings/import", UriKind.Relative), csv);

        Assert.Equal(HttpStatusCode.Conflict, imported.StatusCode);
        Assert.DoesNotContain(other.ToString(), await imported.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_auditor_is_not_limited_to_projects_because_the_audit_log_is_one_log()
    {
        var (project, _) = await ProjectWithMappingAsync();

        var refused = await Host.Client.PostJsonAsync("/api/v1/accounts",
            new { userName = ApiClient.Unique("auditor").ToLowerInvariant(), role = "Auditor", password = "Audit-Passw0rd-2026-x", projects = new[] { project } },
            HttpStatusCode.BadRequest);

        Assert.Equal("projects", refused.GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.Equal("AuditorReadsTheWholeLog", refused.GetProperty("errors")[0].GetProperty("rule").GetString());
    }

    [Fact]
    public async Task A_scoped_token_whose_account_was_narrowed_below_its_scope_opens_nothing()
    {
        var account = await Host.CreateAsync(Role.Administrator);
        using var client = account.Client(Host);
        var scoped = await client.PostJsonAsync("/api/v1/tokens", new { name = "audit export", scope = "Auditor" });
        using var auditToken = Host.ClientWith(scoped.GetProperty("token").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await auditToken.GetAsync(new Uri("/api/v1/audit", UriKind.Relative))).StatusCode);

        (await Host.Client.PutAsJsonAsync($"/api/v1/accounts/{account.Id}", new { role = "Operator" }, ServerHost.Json)).EnsureSuccessStatusCode();

        Assert.Equal(HttpStatusCode.Unauthorized, (await auditToken.GetAsync(new Uri("/api/v1/audit", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await auditToken.GetAsync(new Uri("/api/v1/projects", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task A_scoped_token_makes_no_token_wider_than_itself()
    {
        var account = await Host.CreateAsync(Role.Administrator);
        using var client = account.Client(Host);
        var scoped = await client.PostJsonAsync("/api/v1/tokens", new { name = "viewer", scope = "Viewer" });
        using var viewer = Host.ClientWith(scoped.GetProperty("token").GetString()!);

        var wider = await viewer.PostJsonAsync("/api/v1/tokens", new { name = "administrator", scope = "Administrator" }, HttpStatusCode.BadRequest);
        var unscoped = await viewer.PostJsonAsync("/api/v1/tokens", new { name = "no scope given" });
        using var made = Host.ClientWith(unscoped.GetProperty("token").GetString()!);

        Assert.Equal("scope", wider.GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.Equal("Viewer", unscoped.GetProperty("scope").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await made.PostAsJsonAsync("/api/v1/policies", new { name = ApiClient.Unique("policy") }, ServerHost.Json)).StatusCode);
    }

    [Theory]
    [InlineData(Role.Viewer, "/connections", false)]
    [InlineData(Role.Operator, "/policies", false)]
    [InlineData(Role.Operator, "/notifications", false)]
    [InlineData(Role.Administrator, "/notifications", true)]
    [InlineData(Role.Auditor, "/projects", false)]
    [InlineData(Role.Viewer, "/audit", false)]
    [InlineData(Role.Viewer, "/projects", true)]
    [InlineData(Role.Auditor, "/audit", true)]
    [InlineData(Role.Auditor, "/tokens", true)]
    [InlineData(Role.Administrator, "/audit", true)]
    public async Task A_console_page_opens_only_for_the_roles_that_cover_its_own(Role role, string page, bool opens)
    {
        var account = await Host.CreateAsync(role);
        var cookies = await Host.ConsoleCookiesAsync(account.UserName, account.Password);
        using var request = new HttpRequestMessage(HttpMethod.Get, page);
        request.Headers.Add("Cookie", cookies);
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = Host.BaseAddress };

        using var response = await browser.SendAsync(request);

        if (opens)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        else
        {
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/denied", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_console_menu_shows_a_viewer_no_connections_policies_or_audit_log()
    {
        var account = await Host.CreateAsync(Role.Viewer);
        var cookies = await Host.ConsoleCookiesAsync(account.UserName, account.Password);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/projects");
        request.Headers.Add("Cookie", cookies);

        var html = await (await Host.Anonymous.SendAsync(request)).Content.ReadAsStringAsync();

        Assert.Contains("href=\"/projects\"", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/agents\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"/connections\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"/policies\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"/audit\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_console_action_checks_the_role_the_account_has_now_not_the_one_its_page_opened_with()
    {
        var account = await Host.CreateAsync(Role.Operator);
        // The page was opened as an operator; an administrator has since made the account a viewer.
        var session = new ConsoleSession(Host.App.Services.GetRequiredService<IServiceScopeFactory>(), new Signed(await CookiePrincipalAsync(account)));
        await using (var scope = Host.Scope())
        {
            await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Accounts.Where(a => a.Id == account.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(a => a.Role, Role.Viewer));
        }

        var listed = await session.RunAsync<ProjectCommands, IReadOnlyList<Rehome.Server.Api.ProjectView>>(Role.Viewer, p => p.ListAsync(CancellationToken.None));

        Assert.NotNull(listed);
        await Assert.ThrowsAsync<ConsoleAccessDeniedException>(() =>
            session.RunAsync<ProjectCommands, Outcome<bool>>(Role.Operator, p => p.DeleteAsync(Guid.NewGuid(), CancellationToken.None)));
    }

    [Fact]
    public async Task A_console_action_sees_only_the_accounts_projects()
    {
        var (mine, _) = await ProjectWithMappingAsync();
        await ProjectWithMappingAsync();
        var account = await Host.CreateAsync(Role.Viewer, [mine]);
        var session = new ConsoleSession(Host.App.Services.GetRequiredService<IServiceScopeFactory>(), new Signed(await CookiePrincipalAsync(account)));

        var listed = await session.RunAsync<ProjectCommands, IReadOnlyList<Rehome.Server.Api.ProjectView>>(Role.Viewer, p => p.ListAsync(CancellationToken.None));

        Assert.Equal([mine], listed.Select(p => p.Id));
    }

    /// <summary>The principal the console's cookie carries for <paramref name="account"/>.</summary>
    private async Task<ClaimsPrincipal> CookiePrincipalAsync(TestAccount account)
    {
        await using var scope = Host.Scope();
        var stored = await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Accounts.AsNoTracking().SingleAsync(a => a.Id == account.Id);
        return new ClaimsPrincipal(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, stored.Id.ToString()),
                new Claim(ClaimTypes.Name, stored.UserName),
                new Claim(ClaimTypes.Role, stored.Role.ToString()),
                new Claim(Roles.SecurityStampClaim, stored.SecurityStamp),
            ], ConsoleServiceCollectionExtensions.CookieScheme));
    }

    private sealed class Signed(ClaimsPrincipal user) : AuthenticationStateProvider
    {
        public override Task<AuthenticationState> GetAuthenticationStateAsync() => Task.FromResult(new AuthenticationState(user));
    }
}

/// <summary>Project limits on PostgreSQL (the limits are a query parameter whose translation differs by provider).</summary>
public sealed class ProjectLimitsOnPostgres(PostgresServer server) : IClassFixture<PostgresServer>
{
    [Fact]
    public Task A_limited_account_lists_only_its_projects_and_finds_no_other() => AccessControlTests.LimitedListingAsync(server.Host);
}
