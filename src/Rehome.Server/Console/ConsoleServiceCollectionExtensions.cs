using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Rehome.Server.Administration;
using Rehome.Server.Api;
using Rehome.Server.Auth;
using Rehome.Server.Mappings;

namespace Rehome.Server.Console;

/// <summary>
/// The web console: Blazor components served by the server itself (static rendering, interactive server
/// components for the live pages), signed in with a cookie that opens the console only. The REST API stays
/// bearer-only, so no browser cookie ever authorises an API call (no cross-site request forgery there).
/// </summary>
public static class ConsoleServiceCollectionExtensions
{
    public const string CookieScheme = "RehomeConsole";
    public const string PolicyName = "Console";
    public const string SignInPath = "/sign-in";
    public const string SetupPath = "/setup";
    public const string DeniedPath = "/denied";
    public const string AntiforgeryField = "__RequestVerificationToken";

    public static IServiceCollection AddRehomeConsole(this IServiceCollection services)
    {
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddCascadingAuthenticationState();
        services.AddScoped<ConsoleSession>();
        services.AddScoped<MappingGrid>();
        services.AddAuthentication().AddCookie(CookieScheme, o =>
        {
            o.LoginPath = SignInPath;
            o.LogoutPath = "/account/sign-out";
            o.AccessDeniedPath = DeniedPath;
            o.Cookie.Name = "rehome-console";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = true;
            o.Events.OnValidatePrincipal = ConsoleSignIns.ValidateAsync;
        });
        services.AddScoped<Microsoft.AspNetCore.Components.Authorization.AuthenticationStateProvider, ConsoleSessionRevalidation>();
        // The antiforgery cookie is Secure over HTTPS, like the console's own (its default would send it in clear too).
        services.AddAntiforgery(o =>
        {
            o.FormFieldName = AntiforgeryField;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        services.AddAuthorizationBuilder()
            .AddPolicy(PolicyName, new AuthorizationPolicyBuilder(CookieScheme).RequireAuthenticatedUser().Build())
            .AddConsoleRolePolicies(CookieScheme);
        return services;
    }

    /// <summary>Maps the console's pages, its static files and its sign-in and sign-out form posts.</summary>
    public static WebApplication MapRehomeConsole(this WebApplication app)
    {
        app.MapStaticAssets().AllowAnonymous();
        app.MapRazorComponents<App>()
            .AddInteractiveServerRenderMode()
            .RequireAuthorization(PolicyName);

        // A plain form post (with the antiforgery token the page renders), checked by the same password rule as
        // the API's token sign-in, and rate limited the same way.
        // The grid's export: the console's cookie, the same filter and CSV as the API's export.
        app.MapGet("/console/projects/{projectId:guid}/mappings.csv", async (
                Guid projectId, string? status, string? stage, string? search, MappingTransfer transfer, CancellationToken ct) =>
            (await transfer.ExportAsync(projectId, new MappingFilter { Status = Empty(status), Stage = Empty(stage), Search = Empty(search) }, ct))
                .ToResult(MappingsApi.Download))
            .RequireAuthorization(PolicyName, ConsolePolicies.Viewer).ExcludeFromDescription();
        app.MapPost("/account/sign-in", SignInAsync).AllowAnonymous().RequireRateLimiting(AuthApi.SignInRateLimit).ExcludeFromDescription();
        // Checked here: the antiforgery middleware only records a bad token, and an endpoint without form fields
        // would never look, so another site could sign an administrator out.
        app.MapPost("/account/sign-out", async (HttpContext http, IAntiforgery antiforgery) =>
        {
            if (!await antiforgery.IsRequestValidAsync(http))
            {
                return Problems.Validation(AntiforgeryField, "Antiforgery",
                    "The sign-out form's antiforgery token is missing or does not match; sign out with the console's own button.");
            }
            await ConsoleSignIns.SignOutAsync(http);
            return Results.LocalRedirect(SignInPath);
        }).RequireAuthorization(PolicyName).ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> SignInAsync(
        [FromForm] string? userName, [FromForm] string? password, [FromForm] string? returnUrl, HttpContext http, AccountCommands accounts,
        CancellationToken ct)
    {
        var back = IsLocal(returnUrl) ? returnUrl! : "/";
        var account = await accounts.VerifyPasswordAsync(userName, password, "console", http.Connection.RemoteIpAddress, ct);
        if (account is null)
        {
            // The typed name is not sent back in the address: it may be a password typed into the wrong field, and
            // addresses reach browser histories and request logs.
            return Results.LocalRedirect($"{SignInPath}?failed=1&returnUrl={Uri.EscapeDataString(back)}");
        }
        await SignInCookieAsync(http, account);
        accounts.RecordSignIn(account, $"account:{account.Id}", "console");
        await accounts.SaveAsync(ct);
        return Results.LocalRedirect(back);
    }

    /// <summary>
    /// Issues the console's cookie for an account whose credentials were checked: the one place a console cookie
    /// is made (password sign-in, first-run setup, single sign-on), each with its server-side session.
    /// </summary>
    public static Task SignInCookieAsync(HttpContext http, Account account) => ConsoleSignIns.SignInAsync(http, account);

    private static string? Empty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>
    /// A path on this site to go back to after sign-in. Browsers drop tabs and line breaks from URLs, so
    /// "/\t/evil.example" would become "//evil.example": any control character makes it not local (and
    /// LocalRedirect would throw on it).
    /// </summary>
    public static bool IsLocal(string? url) =>
        !string.IsNullOrEmpty(url) && url.Length <= 2048 && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal)
        && !url.StartsWith("/\\", StringComparison.Ordinal) && Rehome.Core.Validation.TextRules.IndexOfRefused(url) < 0;
}
