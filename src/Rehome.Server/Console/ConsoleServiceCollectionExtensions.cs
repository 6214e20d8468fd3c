using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
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
            o.AccessDeniedPath = SignInPath;
            o.Cookie.Name = "rehome-console";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = true;
        });
        // The antiforgery cookie is Secure over HTTPS, like the console's own (its default would send it in clear too).
        services.AddAntiforgery(o =>
        {
            o.FormFieldName = AntiforgeryField;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        services.AddAuthorizationBuilder()
            .AddPolicy(PolicyName, new AuthorizationPolicyBuilder(CookieScheme).RequireAuthenticatedUser().Build());
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
            .RequireAuthorization(PolicyName).ExcludeFromDescription();
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
            await http.SignOutAsync(CookieScheme);
            return Results.LocalRedirect(SignInPath);
        }).RequireAuthorization(PolicyName).ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> SignInAsync(
        [FromForm] string? userName, [FromForm] string? password, [FromForm] string? returnUrl, HttpContext http, AccountCommands accounts,
        CancellationToken ct)
    {
        var back = IsLocal(returnUrl) ? returnUrl! : "/";
        var account = await accounts.VerifyPasswordAsync(userName, password, ct);
        if (account is null)
        {
            return Results.LocalRedirect($"{SignInPath}?failed=1&userName={Uri.EscapeDataString(userName ?? "")}&returnUrl={Uri.EscapeDataString(back)}");
        }
        await SignInCookieAsync(http, account);
        accounts.RecordSignIn(account, $"administrator:{account.Id}", "console");
        await accounts.SaveAsync(ct);
        return Results.LocalRedirect(back);
    }

    /// <summary>Issues the console's cookie for an administrator whose password was checked.</summary>
    public static Task SignInCookieAsync(HttpContext http, AdministratorAccount account) =>
        http.SignInAsync(CookieScheme, new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, account.Id.ToString()), new Claim(ClaimTypes.Name, account.UserName)], CookieScheme)));

    private static string? Empty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    public static bool IsLocal(string? url) =>
        !string.IsNullOrEmpty(url) && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal);
}
