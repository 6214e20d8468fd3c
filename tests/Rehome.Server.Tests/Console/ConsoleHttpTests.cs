using System.Net;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Rehome.Server.Console;
using Rehome.Server.Hosting;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Console;

/// <summary>The console's own endpoints (form posts, the grid's export) over plain HTTP with its cookie.</summary>
public sealed class ConsoleHttpTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    private ServerHost Host => server.Host;

    [Fact]
    public async Task The_grid_export_of_a_project_named_in_any_letters_names_its_file_per_rfc_6266()
    {
        var project = await Host.Client.CreateProjectAsync();
        var name = $"Überprüfung Zürich ✓ {Guid.NewGuid().ToString("N")[..6]}";
        await Host.Client.RenameProjectAsync(project, name);
        using var console = await ConsoleClient.SignInAsync(Host);

        using var answer = await console.Http.GetAsync(new Uri($"/console/projects/{project}/mappings.csv", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        ExportFileName.AssertNames(answer, name);
    }

    [Fact]
    public async Task Console_pages_and_api_answers_carry_nosniff_no_referrer_and_a_policy_of_own_scripts_only()
    {
        using var page = await Host.Anonymous.GetAsync(new Uri("/sign-in", UriKind.Relative));
        using var api = await Host.Client.GetAsync(new Uri("/api/v1/projects", UriKind.Relative));

        foreach (var answer in new[] { page, api })
        {
            Assert.Equal("nosniff", Header(answer, "X-Content-Type-Options"));
            Assert.Equal("no-referrer", Header(answer, "Referrer-Policy"));
            Assert.Null(Header(answer, "Strict-Transport-Security"));
        }
        var policy = Header(page, "Content-Security-Policy");
        Assert.NotNull(policy);
        Assert.Contains("script-src 'self';", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", policy.Replace("style-src-attr 'unsafe-inline'", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_out_without_the_forms_antiforgery_token_is_refused_and_the_session_stays()
    {
        using var console = await ConsoleClient.SignInAsync(Host);

        using var forged = await console.Http.PostAsync(new Uri("/account/sign-out", UriKind.Relative), new FormUrlEncodedContent([]));
        var problem = await forged.JsonAsync(HttpStatusCode.BadRequest);
        Assert.Equal("Antiforgery", problem.GetProperty("rule").GetString());
        using var still = await console.Http.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, still.StatusCode);

        using var signedOut = await console.PostFormAsync("/", "/account/sign-out", []);
        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        using var after = await console.Http.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.StartsWith("/sign-in", after.Headers.Location?.PathAndQuery ?? after.Headers.Location?.OriginalString, StringComparison.Ordinal);
    }

    // The test hosts listen on plain HTTP (no certificate for loopback), so what HTTPS changes is checked on the
    // options and on the headers' rule for a request that came over HTTPS.
    [Fact]
    public void Over_https_the_console_and_antiforgery_cookies_are_secure_and_answers_ask_for_https_from_then_on()
    {
        var https = new DefaultHttpContext { RequestServices = Host.App.Services };
        https.Request.Scheme = "https";
        https.Request.Host = new HostString("rehome.example");

        var antiforgery = Host.App.Services.GetRequiredService<IOptions<AntiforgeryOptions>>().Value;
        var console = Host.App.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(ConsoleServiceCollectionExtensions.CookieScheme);
        Assert.True(antiforgery.Cookie.Build(https).Secure);
        Assert.True(console.Cookie.Build(https).Secure);
        IHeaderDictionary headers = new HeaderDictionary();
        SecurityHeaders.Apply(headers, overHttps: true);
        Assert.StartsWith("max-age=", headers.StrictTransportSecurity.ToString(), StringComparison.Ordinal);
    }

    private static string? Header(HttpResponseMessage answer, string name) =>
        answer.Headers.TryGetValues(name, out var values) || answer.Content.Headers.TryGetValues(name, out values) ? string.Join(",", values) : null;
}
