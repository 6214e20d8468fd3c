using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Rehome.Server.Tests.Infrastructure;

/// <summary>
/// A person at the test identity provider: the groups go into the ID token's <c>groups</c> claim, or with
/// <c>GroupsOverage</c> Entra ID's "too many groups" pointer (<c>_claim_names</c>) goes there instead.
/// </summary>
public sealed record TestUser(string Subject, string UserName, IReadOnlyList<string> Groups, bool GroupsOverage = false);

/// <summary>
/// A real OpenID Connect provider (OpenIddict's server) on a loopback port: discovery, JWKS, an authorization
/// endpoint that signs in <see cref="CurrentUser"/> at once (no login page), and the token endpoint. Rehome is
/// registered as a confidential client with PKCE, the way an Entra ID app registration would be.
/// </summary>
public sealed class TestIdentityProvider : IAsyncDisposable
{
    public const string ClientId = "rehome-console";
    public const string ClientSecret = "test-client-secret-9c1f0e";

    private readonly WebApplication _app;

    private TestIdentityProvider(WebApplication app, Uri authority)
    {
        _app = app;
        Authority = authority;
    }

    /// <summary>The issuer, for Rehome's <c>Authority</c> setting.</summary>
    public Uri Authority { get; }

    /// <summary>Who signs in at the next authorization request (null: the request is refused with access_denied).</summary>
    public TestUser? CurrentUser { get; set; }

    /// <summary>
    /// Shows a page with a Continue button first, as a real provider's sign-in page: the way back to Rehome then
    /// starts on the provider's site (a browser treats it as a cross-site navigation).
    /// </summary>
    public bool AsksToContinue { get; set; }

    /// <param name="hostName">
    /// The name the provider is reached by: <c>localhost</c> puts it on another site than a Rehome server on
    /// 127.0.0.1, as a real provider is, so that a browser applies its cross-site cookie rules.
    /// </param>
    public static async Task<TestIdentityProvider> StartAsync(string hostName = "127.0.0.1")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var database = "idp-" + Guid.NewGuid().ToString("N");
        builder.Services.AddDbContext<IdentityProviderStore>(o =>
        {
            o.UseInMemoryDatabase(database);
            o.UseOpenIddict();
        });
        builder.Services.AddOpenIddict()
            .AddCore(o => o.UseEntityFrameworkCore().UseDbContext<IdentityProviderStore>())
            .AddServer(o =>
            {
                o.SetAuthorizationEndpointUris("connect/authorize").SetTokenEndpointUris("connect/token");
                o.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange();
                o.AddEphemeralEncryptionKey().AddEphemeralSigningKey();
                o.DisableAccessTokenEncryption();
                o.RegisterScopes(Scopes.OpenId, Scopes.Profile, Scopes.Email);
                o.UseAspNetCore().EnableAuthorizationEndpointPassthrough().DisableTransportSecurityRequirement();
            });
        var app = builder.Build();
        TestIdentityProvider? provider = null;
        app.MapMethods("/connect/authorize", [HttpMethods.Get, HttpMethods.Post], (HttpContext http) =>
            provider!.AsksToContinue && HttpMethods.IsGet(http.Request.Method) ? ContinuePage(http.Request.Query)
            : provider.CurrentUser is { } user
                ? Results.SignIn(Principal(user, http.GetOpenIddictServerRequest()!), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)
                : Results.Forbid(authenticationSchemes: [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        provider = new TestIdentityProvider(app, new UriBuilder(address) { Host = hostName, Path = "/" }.Uri);
        return provider;
    }

    /// <summary>Registers Rehome (at <paramref name="rehome"/>) as the client, with its callback as the only redirect URI.</summary>
    public async Task RegisterClientAsync(Uri rehome)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        await applications.CreateAsync(new OpenIddictApplicationDescriptor
        {
            ClientId = ClientId,
            ClientSecret = ClientSecret,
            ClientType = ClientTypes.Confidential,
            RedirectUris = { new Uri(rehome, "/signin-oidc") },
            Permissions =
            {
                Permissions.Endpoints.Authorization,
                Permissions.Endpoints.Token,
                Permissions.GrantTypes.AuthorizationCode,
                Permissions.ResponseTypes.Code,
                Permissions.Scopes.Profile,
                Permissions.Scopes.Email,
            },
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
        });
    }

    /// <summary>The settings that point a Rehome server at this provider, with one group per role.</summary>
    public Dictionary<string, string?> RehomeSettings() => new()
    {
        ["Rehome:SingleSignOn:Authority"] = Authority.ToString(),
        ["Rehome:SingleSignOn:ClientId"] = ClientId,
        ["Rehome:SingleSignOn:ClientSecret"] = ClientSecret,
        ["Rehome:SingleSignOn:DisplayName"] = "Test provider",
        ["Rehome:SingleSignOn:RoleGroups:Administrator:0"] = "rehome-admins",
        ["Rehome:SingleSignOn:RoleGroups:Operator:0"] = "rehome-operators",
        ["Rehome:SingleSignOn:RoleGroups:Viewer:0"] = "rehome-viewers",
        ["Rehome:SingleSignOn:RoleGroups:Auditor:0"] = "rehome-auditors",
    };

    private static IResult ContinuePage(IQueryCollection query)
    {
        var fields = string.Concat(query.Select(p =>
            $"<input type=\"hidden\" name=\"{HtmlEncoder.Default.Encode(p.Key)}\" value=\"{HtmlEncoder.Default.Encode(p.Value.ToString())}\">"));
        return Results.Content(
            $"<!DOCTYPE html><html><body><form method=\"post\" action=\"/connect/authorize\">{fields}<button type=\"submit\">Continue</button></form></body></html>",
            "text/html");
    }

    private static ClaimsPrincipal Principal(TestUser user, OpenIddictRequest request)
    {
        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, user.Subject)
            .SetClaim(Claims.Name, user.UserName)
            .SetClaim(Claims.PreferredUsername, user.UserName);
        if (user.GroupsOverage)
        {
            identity.AddClaim(new Claim("_claim_names", """{"groups":"src1"}""", "JSON"));
        }
        else
        {
            identity.SetClaims("groups", [.. user.Groups]);
        }
        identity.SetScopes(request.GetScopes());
        identity.SetDestinations(_ => [Destinations.IdentityToken]);
        return new ClaimsPrincipal(identity);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class IdentityProviderStore(DbContextOptions<IdentityProviderStore> options) : DbContext(options);
}
