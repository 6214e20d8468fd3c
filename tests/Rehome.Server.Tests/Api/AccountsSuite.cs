using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Api;

/// <summary>Accounts managed by an administrator, and what ends when their access changes: tokens and console sessions.</summary>
public abstract class AccountsSuite(ServerHost host)
{
    private const string Password = "Quite-Long-Passw0rd-9";

    /// <summary>A new account with a password; returns its id.</summary>
    private async Task<Guid> CreateAccountAsync(string userName, string role = "Operator", object? projects = null) =>
        (await host.Client.PostJsonAsync("/api/v1/accounts", new { userName, role, password = Password, projects })).Id();

    /// <summary>A new account signed in twice: with an API token, and in the console.</summary>
    private async Task<(string Name, Guid Id, string Token, ConsoleClient Browser)> SignedInAccountAsync(string prefix)
    {
        var name = ApiClient.Unique(prefix);
        var id = await CreateAccountAsync(name);
        var token = await host.SignInAsync(name, Password);
        var browser = new ConsoleClient(host.BaseAddress);
        Assert.True(await browser.SignInAsync(name, Password));
        return (name, id, token, browser);
    }

    private HttpClient WithToken(string token)
    {
        var client = new HttpClient { BaseAddress = host.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private async Task<HttpStatusCode> MeAsync(string token)
    {
        using var client = WithToken(token);
        return (await client.GetAsync(new Uri("/api/v1/auth/me", UriKind.Relative))).StatusCode;
    }

    [Fact]
    public async Task An_administrator_creates_an_account_limited_to_a_project_and_it_signs_in()
    {
        var project = await host.Client.CreateProjectAsync();
        var name = ApiClient.Unique("operator");

        var created = await host.Client.PostJsonAsync("/api/v1/accounts", new { userName = name, role = "Operator", password = Password, projects = new[] { project } });

        Assert.Equal("Operator", created.GetProperty("role").GetString());
        Assert.Equal([project], created.GetProperty("projects").EnumerateArray().Select(p => p.GetGuid()));
        Assert.True(created.GetProperty("hasPassword").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, await MeAsync(await host.SignInAsync(name.ToUpperInvariant(), Password)));
        var listed = await host.Client.GetJsonAsync("/api/v1/accounts");
        Assert.Contains(listed.EnumerateArray(), a => a.GetProperty("userName").GetString() == name);
        var audit = await host.Client.GetJsonAsync("/api/v1/audit?action=account.create&pageSize=200");
        Assert.Contains(name, audit.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(Password, audit.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_user_name_is_taken_in_any_case()
    {
        var name = ApiClient.Unique("taken");
        await CreateAccountAsync(name);

        var problem = await host.Client.PostJsonAsync("/api/v1/accounts", new { userName = name.ToUpperInvariant(), role = "Viewer", password = Password }, HttpStatusCode.Conflict);

        Assert.Equal("UserNameTaken", problem.GetProperty("rule").GetString());
        Assert.Equal("userName", problem.GetProperty("errors")[0].GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_weak_password_an_unknown_project_a_missing_role_and_a_strange_name_are_each_named_and_nothing_is_created()
    {
        var problem = await host.Client.PostJsonAsync("/api/v1/accounts",
            new { userName = "two words", password = "weak", projects = new[] { Guid.NewGuid() } }, HttpStatusCode.BadRequest);

        var fields = problem.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("field").GetString(), e.GetProperty("rule").GetString())).ToList();
        Assert.Contains(("userName", "UserNameCharacters"), fields);
        Assert.Contains(("password", "PasswordComplexity"), fields);
        Assert.Contains(("role", "Required"), fields);
        Assert.Contains(("projects", "UnknownProject"), fields);
        var listed = await host.Client.GetJsonAsync("/api/v1/accounts");
        Assert.DoesNotContain(listed.EnumerateArray(), a => a.GetProperty("userName").GetString() == "two words");
    }

    [Fact]
    public async Task A_signed_out_console_cookie_is_refused_when_replayed()
    {
        using var browser = new ConsoleClient(host.BaseAddress);
        Assert.True(await browser.SignInAsync("admin", ServerHost.AdminPassword));
        Assert.True(await browser.OpensConsoleAsync());
        var stolen = browser.CookieHeader;

        await browser.SignOutAsync();

        Assert.False(await ConsoleClient.OpensConsoleAsync(host.BaseAddress, stolen));
    }

    [Fact]
    public async Task A_disabled_account_loses_its_token_and_console_cookie_at_once_and_signs_in_again_once_enabled()
    {
        var (name, id, token, signedIn) = await SignedInAccountAsync("leaver");
        using var browser = signedIn;

        var disabled = await host.Client.PostJsonAsync($"/api/v1/accounts/{id}/disable", new { }, HttpStatusCode.OK);

        Assert.NotEqual(JsonValueKind.Null, disabled.GetProperty("disabledAt").ValueKind);
        Assert.Equal(HttpStatusCode.Unauthorized, await MeAsync(token));
        Assert.False(await browser.OpensConsoleAsync());
        Assert.False(await browser.SignInAsync(name, Password));

        await host.Client.PostJsonAsync($"/api/v1/accounts/{id}/enable", new { }, HttpStatusCode.OK);

        Assert.Equal(HttpStatusCode.OK, await MeAsync(await host.SignInAsync(name, Password)));
        Assert.Equal(HttpStatusCode.Unauthorized, await MeAsync(token));
    }

    [Fact]
    public async Task A_password_change_ends_the_old_cookies_and_the_other_tokens_but_keeps_the_token_that_made_it()
    {
        var name = ApiClient.Unique("changer");
        await CreateAccountAsync(name);
        var other = await host.SignInAsync(name, Password);
        var calling = await host.SignInAsync(name, Password);
        using var browser = new ConsoleClient(host.BaseAddress);
        Assert.True(await browser.SignInAsync(name, Password));
        var cookie = browser.CookieHeader;

        using (var client = WithToken(calling))
        {
            await client.PostJsonAsync("/api/v1/auth/password", new { currentPassword = Password, newPassword = "Another-Long-Passw0rd-7" }, HttpStatusCode.NoContent);
        }

        Assert.False(await ConsoleClient.OpensConsoleAsync(host.BaseAddress, cookie));
        Assert.Equal(HttpStatusCode.Unauthorized, await MeAsync(other));
        Assert.Equal(HttpStatusCode.OK, await MeAsync(calling));
    }

    [Fact]
    public async Task A_password_reset_by_an_administrator_ends_every_token_and_cookie_of_the_account()
    {
        var (name, id, token, signedIn) = await SignedInAccountAsync("forgetful");
        using var browser = signedIn;

        var weak = await host.Client.PostJsonAsync($"/api/v1/accounts/{id}/password", new { newPassword = "short" }, HttpStatusCode.BadRequest);
        Assert.Equal("newPassword", weak.GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.OK, await MeAsync(token));
        await host.Client.PostJsonAsync($"/api/v1/accounts/{id}/password", new { newPassword = "Reset-By-Someone-3lse" }, HttpStatusCode.NoContent);

        Assert.Equal(HttpStatusCode.Unauthorized, await MeAsync(token));
        Assert.False(await browser.OpensConsoleAsync());
        Assert.Equal(HttpStatusCode.OK, await MeAsync(await host.SignInAsync(name, "Reset-By-Someone-3lse")));
        var audit = await host.Client.GetJsonAsync("/api/v1/audit?action=account.reset-password&pageSize=200");
        Assert.DoesNotContain("Reset-By-Someone-3lse", audit.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_role_change_ends_the_console_sessions_whose_cookies_carry_the_old_role()
    {
        var name = ApiClient.Unique("promoted");
        var id = await CreateAccountAsync(name, "Viewer");
        using var browser = new ConsoleClient(host.BaseAddress);
        Assert.True(await browser.SignInAsync(name, Password));

        var updated = await host.Client.PutAsJsonAsync($"/api/v1/accounts/{id}", new { role = "Operator" }, ServerHost.Json);

        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.False(await browser.OpensConsoleAsync());
    }

    [Fact]
    public async Task An_administrator_cannot_disable_delete_or_demote_their_own_account()
    {
        await CreateAccountAsync(ApiClient.Unique("second-admin"), "Administrator");
        var me = (await host.Client.GetJsonAsync("/api/v1/auth/me")).Id();

        var disable = await host.Client.PostJsonAsync($"/api/v1/accounts/{me}/disable", new { }, HttpStatusCode.Conflict);
        var demote = await (await host.Client.PutAsJsonAsync($"/api/v1/accounts/{me}", new { role = "Viewer" }, ServerHost.Json)).JsonAsync(HttpStatusCode.Conflict);
        var delete = await (await host.Client.DeleteAsync(new Uri($"/api/v1/accounts/{me}", UriKind.Relative))).JsonAsync(HttpStatusCode.Conflict);

        Assert.All([disable, demote, delete], p => Assert.Equal("OwnAccount", p.GetProperty("rule").GetString()));
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync(new Uri("/api/v1/auth/me", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task A_deleted_account_can_use_its_token_no_more()
    {
        var name = ApiClient.Unique("deleted");
        var id = await CreateAccountAsync(name);
        var token = await host.SignInAsync(name, Password);

        await (await host.Client.DeleteAsync(new Uri($"/api/v1/accounts/{id}", UriKind.Relative))).JsonAsync(HttpStatusCode.NoContent);

        Assert.Equal(HttpStatusCode.Unauthorized, await MeAsync(token));
        await host.Client.GetJsonAsync($"/api/v1/accounts/{id}", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Failed_sign_ins_are_audited_with_the_address_and_the_name_only_of_an_existing_account()
    {
        const string typedIntoTheNameField = "My-Secret-Passw0rd-typed-as-name";
        var before = (await host.Client.GetJsonAsync("/api/v1/audit?action=auth.sign-in-failed&actor=admin")).GetProperty("total").GetInt32();

        await host.Anonymous.PostJsonAsync("/api/v1/auth/token", new { userName = typedIntoTheNameField, password = "x" }, HttpStatusCode.Unauthorized);
        using var browser = new ConsoleClient(host.BaseAddress);
        Assert.False(await browser.SignInAsync("admin", "Wrong-Passw0rd-for-it"));
        Assert.False(await browser.SignInAsync(typedIntoTheNameField, "x"));

        var audit = (await host.Client.GetJsonAsync("/api/v1/audit?action=auth.sign-in-failed&pageSize=200")).GetProperty("items");
        var admin = audit.EnumerateArray().Where(e => e.GetProperty("actor").GetString() == "admin").ToList();
        Assert.Equal(before + 1, admin.Count);
        Assert.Equal("console from 127.0.0.1: wrong password", admin[0].GetProperty("details").GetString());
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("actor").GetString() == "(unknown user name)" &&
            e.GetProperty("details").GetString() == "api from 127.0.0.1: unknown user name");
        Assert.DoesNotContain(typedIntoTheNameField, audit.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(host.Logs.Lines, l => l.Contains(typedIntoTheNameField, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_token_that_never_expires_is_refused_and_one_without_a_lifetime_lives_ninety_days()
    {
        var refused = await host.Client.PostJsonAsync("/api/v1/tokens", new { name = "forever", neverExpires = true }, HttpStatusCode.BadRequest);
        var created = await host.Client.PostJsonAsync("/api/v1/tokens", new { name = "default lifetime" });

        Assert.Equal("TokenNeedsExpiry", refused.GetProperty("rule").GetString());
        Assert.Equal("neverExpires", refused.GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.Equal(host.Time.GetUtcNow().AddDays(90), created.GetProperty("expiresAt").GetDateTimeOffset());
    }
}

public sealed class AccountsOnSqlite(SqliteServer server) : AccountsSuite(server.Host), IClassFixture<SqliteServer>;

public sealed class AccountsOnPostgres(PostgresServer server) : AccountsSuite(server.Host), IClassFixture<PostgresServer>;
