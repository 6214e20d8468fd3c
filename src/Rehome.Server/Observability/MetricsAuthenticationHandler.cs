using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Rehome.Server.Observability;

/// <summary>
/// Authenticates a metrics scraper: <c>Authorization: Bearer &lt;token&gt;</c> whose SHA-256 is
/// <see cref="MetricsOptions.TokenHash"/>. Used by <c>/metrics</c> only; an account's API token or an agent's
/// credential authenticates nobody here, and this token authenticates nobody anywhere else.
/// </summary>
public sealed class MetricsAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptions<MetricsOptions> metrics)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Metrics";

    public const string PolicyName = "Metrics";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        if (metrics.Value.TokenHash is not { } configured)
        {
            return Task.FromResult(AuthenticateResult.Fail("No metrics token is configured on this server (Rehome:Metrics:TokenHash)."));
        }
        var sent = SHA256.HashData(Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim()));
        if (!CryptographicOperations.FixedTimeEquals(sent, Convert.FromHexString(configured)))
        {
            return Task.FromResult(AuthenticateResult.Fail("The token is not this server's metrics token."));
        }
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "metrics scraper")], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        // This scheme's own verdict (the request's default scheme may have judged the same header otherwise).
        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure?.Message;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer realm=\"rehome-metrics\"";
        await Response.WriteAsJsonAsync(new
        {
            type = "https://rehome.dev/problems/metrics-unauthenticated",
            title = "Metrics credential required",
            status = 401,
            detail = failure ?? "Send the metrics token as 'Authorization: Bearer <token>' (its SHA-256 is Rehome:Metrics:TokenHash); API tokens and agents' credentials do not open /metrics.",
        }, options: null, contentType: "application/problem+json");
    }
}
