using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Rehome.Server.Console;

namespace Rehome.Server.Auth;

/// <summary>
/// Single sign-on to the console with OpenID Connect (authorization code with PKCE): the sign-in page's button
/// starts it, the provider answers at <see cref="CallbackPath"/>, and the validated ID token becomes an account
/// (<see cref="SingleSignOnAccounts"/>) signed in with the console's own cookie. The API stays bearer-only.
/// </summary>
public static class SingleSignOn
{
    public const string Scheme = "SingleSignOn";
    public const string StartPath = "/account/single-sign-on";
    public const string CallbackPath = "/signin-oidc";

    public static IServiceCollection AddRehomeSingleSignOn(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SingleSignOnOptions>().Bind(configuration.GetSection(SingleSignOnOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SingleSignOnOptions>, SingleSignOnOptionsValidator>();
        services.AddScoped<SingleSignOnAccounts>();
        if (configuration.GetSection(SingleSignOnOptions.Section).Get<SingleSignOnOptions>() is not { Enabled: true })
        {
            return services;
        }
        services.AddAuthentication().AddOpenIdConnect(Scheme, _ => { });
        services.AddOptions<OpenIdConnectOptions>(Scheme).Configure<IOptions<SingleSignOnOptions>>((oidc, sso) => Configure(oidc, sso.Value));
        return services;
    }

    /// <summary>Maps the button's target, which sends the browser to the provider (the callback is the middleware's).</summary>
    public static WebApplication MapSingleSignOn(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<SingleSignOnOptions>>().Value.Enabled)
        {
            app.MapGet(StartPath, (string? returnUrl) => Results.Challenge(
                    new AuthenticationProperties { RedirectUri = ConsoleServiceCollectionExtensions.IsLocal(returnUrl) ? returnUrl : "/" }, [Scheme]))
                .AllowAnonymous().ExcludeFromDescription();
        }
        return app;
    }

    private static void Configure(OpenIdConnectOptions oidc, SingleSignOnOptions sso)
    {
        oidc.Authority = sso.Authority;
        oidc.ClientId = sso.ClientId;
        oidc.ClientSecret = sso.ClientSecret;
        oidc.RequireHttpsMetadata = !sso.IsLoopbackHttp;
        oidc.ResponseType = OpenIdConnectResponseType.Code;
        // The answer comes back as a top-level GET, so the correlation and nonce cookies can be SameSite=Lax and
        // work over plain http on loopback too (form_post from the provider's site needs SameSite=None, so Secure).
        oidc.ResponseMode = OpenIdConnectResponseMode.Query;
        oidc.CorrelationCookie.SameSite = SameSiteMode.Lax;
        oidc.NonceCookie.SameSite = SameSiteMode.Lax;
        oidc.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        oidc.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        oidc.UsePkce = true;
        oidc.CallbackPath = CallbackPath;
        oidc.SignInScheme = ConsoleServiceCollectionExtensions.CookieScheme;
        oidc.MapInboundClaims = false;
        oidc.SaveTokens = false;
        oidc.GetClaimsFromUserInfoEndpoint = false;
        oidc.DisableTelemetry = true;
        oidc.Scope.Clear();
        foreach (var scope in new[] { "openid", "profile" }.Concat(sso.Scopes).Where(s => !string.IsNullOrWhiteSpace(s)).Distinct())
        {
            oidc.Scope.Add(scope.Trim());
        }
        oidc.Events = new OpenIdConnectEvents
        {
            OnTokenValidated = context => SignInAsync(context, sso),
            OnRemoteFailure = context =>
            {
                // The failure's text may quote what the provider or a forged callback sent: only its kind is logged.
                context.HttpContext.RequestServices.GetRequiredService<ILogger<SingleSignOnAccounts>>()
                    .LogWarning("Single sign-on did not complete: {Failure}", context.Failure?.GetType().Name ?? "unknown");
                context.Response.Redirect(RefusedPath(SingleSignOnRules.ProviderFailed));
                context.HandleResponse();
                return Task.CompletedTask;
            },
        };
    }

    private static async Task SignInAsync(TokenValidatedContext context, SingleSignOnOptions sso)
    {
        var http = context.HttpContext;
        var returnUrl = ConsoleServiceCollectionExtensions.IsLocal(context.Properties?.RedirectUri) ? context.Properties!.RedirectUri! : "/";
        context.HandleResponse();
        var identity = Read(context.Principal!, context.SecurityToken.Issuer, sso.GroupsClaim);
        if (identity is null)
        {
            http.Response.Redirect(RefusedPath(SingleSignOnRules.MissingSubject));
            return;
        }
        var (account, refusal) = await http.RequestServices.GetRequiredService<SingleSignOnAccounts>().SignInAsync(identity, http.RequestAborted);
        if (account is null)
        {
            http.Response.Redirect(RefusedPath(refusal!));
            return;
        }
        await ConsoleServiceCollectionExtensions.SignInCookieAsync(http, account);
        await WriteContinuePageAsync(http.Response, returnUrl);
    }

    /// <summary>What the validated ID token says about the person, or null without a subject.</summary>
    public static SingleSignOnIdentity? Read(ClaimsPrincipal principal, string issuer, string groupsClaim)
    {
        var subject = principal.FindFirstValue("oid") ?? principal.FindFirstValue("sub");
        if (string.IsNullOrWhiteSpace(subject) || string.IsNullOrWhiteSpace(issuer))
        {
            return null;
        }
        var name = principal.FindFirstValue("preferred_username") ?? principal.FindFirstValue("email") ?? principal.FindFirstValue("name");
        var groups = principal.FindAll(groupsClaim).Select(c => c.Value).ToList();
        return new SingleSignOnIdentity(issuer, subject, name, groups, HasGroupsOverage(principal, groupsClaim));
    }

    /// <summary>
    /// Entra ID leaves the groups out of a token when there are too many (over 200) and points to Microsoft Graph
    /// instead (<c>_claim_names</c>; <c>hasgroups</c> in some flows); Rehome does not follow it: it refuses and says why.
    /// </summary>
    private static bool HasGroupsOverage(ClaimsPrincipal principal, string groupsClaim)
    {
        if (string.Equals(principal.FindFirstValue("hasgroups"), "true", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        var names = principal.FindFirstValue("_claim_names");
        if (string.IsNullOrEmpty(names))
        {
            return false;
        }
        try
        {
            using var document = JsonDocument.Parse(names);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(groupsClaim, out _);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public static string RefusedPath(SingleSignOnRefusal refusal) => $"{ConsoleServiceCollectionExtensions.SignInPath}?refused={refusal.Rule}";

    /// <summary>
    /// The console's cookie is SameSite=Strict, and a browser does not send it along a redirect chain that began at the
    /// provider's site; this page's own navigation (a meta refresh, no script) comes from the console's site, so it does.
    /// </summary>
    private static Task WriteContinuePageAsync(HttpResponse response, string returnUrl)
    {
        var target = HtmlEncoder.Default.Encode(returnUrl);
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        return response.WriteAsync(
            $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={target}"><title>Signed in · Rehome</title></head>
            <body><p>Signed in. <a href="{target}">Continue to Rehome</a>.</p></body></html>
            """);
    }
}
