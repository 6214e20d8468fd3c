using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Rehome.Server.Administration;
using Rehome.Server.Api;
using Rehome.Server.Auth;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Auth;

/// <summary>A test identity provider and a Rehome server configured against it, shared by the tests of a class.</summary>
public sealed class SingleSignOnWorld : IAsyncLifetime
{
    public TestIdentityProvider Provider { get; private set; } = null!;

    public ServerHost Host { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Provider = await TestIdentityProvider.StartAsync();
        // The real clock: the provider's tokens and the correlation cookies are checked against it.
        Host = await ServerHost.StartLiveAsync(Provider.RehomeSettings());
        await Provider.RegisterClientAsync(Host.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Provider.DisposeAsync();
    }
}

/// <remarks>
/// Each test drives the browser's side of the real redirect flow with a cookie container: Rehome's button, the
/// provider's authorization endpoint, Rehome's callback (which redeems the code at the provider's token endpoint).
/// Tests use users of their own, so they share the provider and the server.
/// </remarks>
public sealed class SingleSignOnTests(SingleSignOnWorld world) : IClassFixture<SingleSignOnWorld>
{
    private ServerHost Host => world.Host;

    [Fact]
    public async Task An_operators_group_member_signs_in_to_a_new_operator_account_and_reaches_the_console()
    {
        var user = NewUser("rehome-operators", "staff");
        var browser = new Browser(Host.BaseAddress);

        var callback = await SignInAtProviderAsync(browser, user, returnUrl: "/projects");

        Assert.Equal(HttpStatusCode.OK, callback.StatusCode);
        Assert.Contains("url=/projects", await callback.Content.ReadAsStringAsync());
        var account = await AccountOfAsync(user);
        Assert.NotNull(account);
        Assert.Equal(Role.Operator, account.Role);
        Assert.Equal(user.UserName, account.UserName);
        Assert.Null(account.PasswordHash);
        Assert.Equal(world.Provider.Authority.ToString(), account.ExternalIssuer);
        var console = await browser.Client.GetAsync(new Uri("/projects", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, console.StatusCode);
        Assert.Contains($"<span>{user.UserName}</span>", await console.Content.ReadAsStringAsync());
        var audit = await AuditOfAsync(account.UserName);
        Assert.Contains(audit, e => e.Action == "account.create");
        Assert.Contains(audit, e => e.Action == "auth.sign-in" && e.Details == "single sign-on");
    }

    [Fact]
    public async Task Without_signing_in_the_console_still_sends_the_browser_to_the_sign_in_page()
    {
        var browser = new Browser(Host.BaseAddress);

        var console = await browser.Client.GetAsync(new Uri("/projects", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Redirect, console.StatusCode);
        Assert.StartsWith("/sign-in", console.Headers.Location!.PathAndQuery);
    }

    [Fact]
    public async Task A_group_change_at_the_provider_changes_the_role_at_the_next_sign_in()
    {
        var user = NewUser("rehome-operators");
        await SignInAtProviderAsync(new Browser(Host.BaseAddress), user);
        var before = (await AccountOfAsync(user))!;

        var callback = await SignInAtProviderAsync(new Browser(Host.BaseAddress), user with { Groups = ["rehome-viewers", "unrelated"] });

        Assert.Equal(HttpStatusCode.OK, callback.StatusCode);
        var after = (await AccountOfAsync(user))!;
        Assert.Equal(before.Id, after.Id);
        Assert.Equal(Role.Viewer, after.Role);
        Assert.NotEqual(before.SecurityStamp, after.SecurityStamp);
    }

    [Fact]
    public async Task The_highest_role_among_the_users_groups_wins()
    {
        var user = NewUser("rehome-auditors", "rehome-admins", "rehome-viewers");

        await SignInAtProviderAsync(new Browser(Host.BaseAddress), user);

        Assert.Equal(Role.Administrator, (await AccountOfAsync(user))!.Role);
    }

    [Fact]
    public async Task A_user_in_no_mapped_group_is_refused_with_a_clear_page_and_gets_no_account()
    {
        var user = NewUser("marketing");
        var browser = new Browser(Host.BaseAddress);

        var callback = await SignInAtProviderAsync(browser, user);

        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        Assert.Equal("/sign-in?refused=NoMatchingGroup", callback.Headers.Location!.OriginalString);
        Assert.Null(await AccountOfAsync(user));
        Assert.False(browser.HasConsoleCookie);
        var page = await (await browser.Client.GetAsync(callback.Headers.Location)).Content.ReadAsStringAsync();
        Assert.Contains("in none of the groups that give a role in Rehome", page);
        var audit = await AuditOfAsync(user.UserName);
        Assert.Contains(audit, e => e.Action == "auth.sign-in-refused" && e.Details!.Contains("NoMatchingGroup"));
    }

    [Fact]
    public async Task A_disabled_account_is_refused()
    {
        var user = NewUser("rehome-admins");
        await SignInAtProviderAsync(new Browser(Host.BaseAddress), user);
        await using (var scope = Host.Scope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
            var account = await db.Accounts.SingleAsync(a => a.ExternalSubject == user.Subject);
            account.DisabledAt = DateTimeOffset.UtcNow;
            await db.SaveChangesAsync();
        }
        var browser = new Browser(Host.BaseAddress);

        var callback = await SignInAtProviderAsync(browser, user);

        Assert.Equal("/sign-in?refused=AccountDisabled", callback.Headers.Location!.OriginalString);
        Assert.False(browser.HasConsoleCookie);
    }

    [Fact]
    public async Task A_callback_with_a_tampered_state_is_refused()
    {
        var user = NewUser("rehome-admins");
        var browser = new Browser(Host.BaseAddress);

        var callback = await SignInAtProviderAsync(browser, user, tamper: url => Regex.Replace(url, "state=([^&]{10})", "state=$1x"));

        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        Assert.Equal("/sign-in?refused=ProviderFailed", callback.Headers.Location!.OriginalString);
        Assert.False(browser.HasConsoleCookie);
        Assert.Null(await AccountOfAsync(user));
    }

    [Fact]
    public async Task A_callback_that_did_not_start_here_is_refused()
    {
        var browser = new Browser(Host.BaseAddress);

        var callback = await browser.Client.GetAsync(new Uri("/signin-oidc?code=forged&state=forged", UriKind.Relative));

        Assert.Equal("/sign-in?refused=ProviderFailed", callback.Headers.Location!.OriginalString);
        Assert.False(browser.HasConsoleCookie);
    }

    [Fact]
    public async Task Too_many_groups_for_the_token_is_refused_with_what_the_administrator_must_configure()
    {
        var user = NewUser("rehome-admins") with { GroupsOverage = true };
        var browser = new Browser(Host.BaseAddress);

        var callback = await SignInAtProviderAsync(browser, user);

        Assert.Equal("/sign-in?refused=GroupsOverage", callback.Headers.Location!.OriginalString);
        var page = await (await browser.Client.GetAsync(callback.Headers.Location)).Content.ReadAsStringAsync();
        Assert.Contains("Groups assigned to the application", WebUtility.HtmlDecode(page));
        Assert.Null(await AccountOfAsync(user));
    }

    [Theory]
    [InlineData("admin")]
    [InlineData("Admin")]
    public async Task A_provider_user_named_like_a_local_account_in_any_case_gets_an_account_of_their_own(string providerName)
    {
        var user = new TestUser(Guid.NewGuid().ToString(), providerName, ["rehome-viewers"]);

        await SignInAtProviderAsync(new Browser(Host.BaseAddress), user);

        var account = (await AccountOfAsync(user))!;
        Assert.StartsWith(providerName + "-", account.UserName, StringComparison.Ordinal);
        Assert.Equal(Role.Viewer, account.Role);
        Assert.False(string.IsNullOrEmpty(await Host.SignInAsync("admin", ServerHost.AdminPassword)));
    }

    [Fact]
    public async Task The_sign_in_page_offers_the_provider_and_local_password_sign_in_still_works_beside_it()
    {
        var browser = new Browser(Host.BaseAddress);
        var page = await (await browser.Client.GetAsync(new Uri("/sign-in", UriKind.Relative))).Content.ReadAsStringAsync();
        Assert.Contains("Sign in with Test provider", page);
        Assert.Contains("href=\"/account/single-sign-on?returnUrl=%2F\"", page);
        var antiforgery = Regex.Match(page, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;

        var signIn = await browser.Client.PostAsync(new Uri("/account/sign-in", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["userName"] = "admin",
            ["password"] = ServerHost.AdminPassword,
            ["returnUrl"] = "/",
            ["__RequestVerificationToken"] = antiforgery,
        }));

        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal("/", signIn.Headers.Location!.OriginalString);
        Assert.True(browser.HasConsoleCookie);
    }

    [Fact]
    public async Task A_single_sign_on_account_without_a_password_uses_a_personal_API_token()
    {
        var user = NewUser("rehome-operators");
        await SignInAtProviderAsync(new Browser(Host.BaseAddress), user);
        var account = (await AccountOfAsync(user))!;
        TokenCreated token;
        await using (var scope = Host.Scope())
        {
            // What the console's Tokens page does for the signed-in account.
            token = (await scope.ServiceProvider.GetRequiredService<AccountCommands>().CreateTokenAsync(account.Id, account.Role, "automation", 30, false, null, CancellationToken.None)).Value!;
        }
        using var client = new HttpClient { BaseAddress = Host.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Token);

        var projects = await client.GetAsync(new Uri("/api/v1/projects", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, projects.StatusCode);
    }

    [Fact]
    public async Task No_log_line_contains_the_client_secret()
    {
        await SignInAtProviderAsync(new Browser(Host.BaseAddress), NewUser("rehome-operators"));

        Assert.DoesNotContain(Host.Logs.Lines, line => line.Contains(TestIdentityProvider.ClientSecret, StringComparison.Ordinal));
    }

    /// <summary>Clicks the button, lets the provider sign in <paramref name="user"/>, and follows its answer to Rehome's callback.</summary>
    private async Task<HttpResponseMessage> SignInAtProviderAsync(Browser browser, TestUser user, string returnUrl = "/", Func<string, string>? tamper = null)
    {
        var start = await browser.Client.GetAsync(new Uri($"/account/single-sign-on?returnUrl={Uri.EscapeDataString(returnUrl)}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, start.StatusCode);
        var authorize = start.Headers.Location!;
        Assert.StartsWith(world.Provider.Authority.ToString(), authorize.ToString());

        world.Provider.CurrentUser = user;
        var answer = await browser.Client.GetAsync(authorize);
        Assert.True(answer.StatusCode == HttpStatusCode.Redirect, $"the provider answered {(int)answer.StatusCode}: {await answer.Content.ReadAsStringAsync()}");
        var callback = answer.Headers.Location!.ToString();
        Assert.StartsWith(new Uri(Host.BaseAddress, "/signin-oidc").ToString(), callback);

        return await browser.Client.GetAsync(new Uri(tamper?.Invoke(callback) ?? callback));
    }

    private static TestUser NewUser(params string[] groups)
    {
        var name = ApiClient.Unique("sso-user");
        return new TestUser(Guid.NewGuid().ToString(), name + "@example.test", groups);
    }

    private async Task<Account?> AccountOfAsync(TestUser user)
    {
        await using var scope = Host.Scope();
        return await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Accounts.AsNoTracking().SingleOrDefaultAsync(a => a.ExternalSubject == user.Subject);
    }

    private async Task<List<Rehome.Server.Audit.AuditEntry>> AuditOfAsync(string actor)
    {
        await using var scope = Host.Scope();
        return await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().AuditLog.AsNoTracking().Where(e => e.Actor == actor).ToListAsync();
    }

    /// <summary>A browser's cookies and manual redirects: each step of the flow is looked at.</summary>
    private sealed class Browser
    {
        private readonly CookieContainer _cookies = new();

        public Browser(Uri rehome)
        {
            Rehome = rehome;
            Client = new HttpClient(new HttpClientHandler { CookieContainer = _cookies, AllowAutoRedirect = false }) { BaseAddress = rehome };
        }

        public Uri Rehome { get; }

        public HttpClient Client { get; }

        public bool HasConsoleCookie => _cookies.GetCookies(Rehome).Any(c => c.Name == "rehome-console");
    }
}

public sealed class SingleSignOnSettingsTests
{
    [Fact]
    public async Task An_authority_without_a_client_or_groups_stops_the_server_at_start_naming_each_setting()
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            ServerHost.StartAsync(StoreProvider.Sqlite, new() { ["Rehome:SingleSignOn:Authority"] = "https://login.example.test/tenant/v2.0" }));

        Assert.Contains(failure.Failures, f => f.Contains("Rehome:SingleSignOn:ClientId"));
        Assert.Contains(failure.Failures, f => f.Contains("Rehome:SingleSignOn:ClientSecret"));
        Assert.Contains(failure.Failures, f => f.Contains("Rehome:SingleSignOn:RoleGroups"));
    }

    [Fact]
    public void A_plain_http_authority_is_refused_unless_it_is_on_loopback()
    {
        var validator = new SingleSignOnOptionsValidator();
        SingleSignOnOptions Options(string authority) => new()
        {
            Authority = authority,
            ClientId = "id",
            ClientSecret = "secret",
            RoleGroups = { [Role.Viewer] = ["g"] },
        };

        Assert.True(validator.Validate(null, Options("http://login.example.test/")).Failed);
        Assert.True(validator.Validate(null, Options("http://127.0.0.1:5000/")).Succeeded);
        Assert.True(validator.Validate(null, Options("https://login.example.test/")).Succeeded);
    }

    [Fact]
    public void Without_an_authority_single_sign_on_is_off_and_the_button_has_nowhere_to_go()
    {
        Assert.False(new SingleSignOnOptions().Enabled);
        Assert.True(new SingleSignOnOptionsValidator().Validate(null, new SingleSignOnOptions()).Succeeded);
    }
}

public sealed class SingleSignOnRulesTests
{
    private static readonly Dictionary<Role, List<string>> Groups = new()
    {
        [Role.Administrator] = ["8f2c-admins"],
        [Role.Operator] = ["OPS"],
    };

    [Fact]
    public void Groups_match_without_regard_to_case_and_the_first_role_in_order_wins()
    {
        var identity = new SingleSignOnIdentity("iss", "sub", null, ["ops", "8F2C-ADMINS"], false);

        Assert.Equal(Role.Administrator, SingleSignOnRules.RoleFor(identity, Groups).Role);
    }

    [Fact]
    public void A_groups_overage_is_refused_even_with_matching_groups()
    {
        var identity = new SingleSignOnIdentity("iss", "sub", null, ["OPS"], GroupsOverage: true);

        Assert.Equal(SingleSignOnRules.GroupsOverage, SingleSignOnRules.RoleFor(identity, Groups).Refusal);
    }

    [Fact]
    public void A_new_account_name_keeps_what_a_user_name_may_hold_and_takes_the_first_free_number_in_any_case()
    {
        var wanted = SingleSignOnRules.BaseUserName("jo\u001b[31m\n\u202Eo", "subject");

        Assert.Equal("jo31mo", wanted);
        Assert.Equal("jo31mo-3", SingleSignOnRules.UniqueUserName(wanted, new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "JO31MO", "jo31mo-2" }));
        Assert.Equal("sso-subject", SingleSignOnRules.BaseUserName("  ", "subject"));
    }

    [Fact]
    public void Only_a_known_refusal_rule_has_a_message_for_the_sign_in_page()
    {
        Assert.Equal(SingleSignOnRules.NoMatchingGroup.Message, SingleSignOnRules.MessageFor("NoMatchingGroup"));
        Assert.Null(SingleSignOnRules.MessageFor("<script>alert(1)</script>"));
    }
}
