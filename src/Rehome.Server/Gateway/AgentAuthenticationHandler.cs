using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Rehome.Protocol;

namespace Rehome.Server.Gateway;

/// <summary>
/// The agent scheme: <c>Authorization: Agent rha_…</c>, checked by <see cref="AgentCredentialCheck"/> from the
/// registry's memory, so an idle poll does not touch the store; a refusal answers 401 with a problem saying why.
/// </summary>
public sealed class AgentAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AgentCredentialCheck check)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = AgentProtocol.AuthorizationScheme;

    public const string PolicyName = "Agent";

    public const string AgentIdClaim = "agent_id";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync() => check.AuthenticateAsync(Context);

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = SchemeName + " realm=\"rehome-agents\"";
        Response.ContentType = "application/problem+json";
        var failure = Context.Features.Get<IAuthenticateResultFeature>()?.AuthenticateResult?.Failure?.Message;
        return Response.WriteAsJsonAsync(new
        {
            type = "https://rehome.dev/problems/agent-unauthenticated",
            title = "Agent authentication required",
            status = 401,
            rule = "AgentUnauthenticated",
            detail = failure ?? "Send the agent's credential as 'Authorization: Agent rha_…'; enroll with POST /agent/v1/enroll to get one.",
        }, options: null, contentType: "application/problem+json");
    }
}

/// <summary>An agent's identity, kept with its entry: the request's user carries it (ASP.NET merges identities, not principals).</summary>
public sealed class AgentIdentity(AgentEntry entry)
    : ClaimsIdentity([new Claim(AgentAuthenticationHandler.AgentIdClaim, entry.AgentId.ToString())], AgentAuthenticationHandler.SchemeName)
{
    public AgentEntry Entry { get; } = entry;
}

/// <summary>Reads the authenticated agent of a gateway request.</summary>
public static class AgentHttpContextExtensions
{
    public static AgentEntry Agent(this HttpContext context)
    {
        // By index: enumerating the identities would allocate an enumerator on every call.
        if (context.User.Identities is IReadOnlyList<ClaimsIdentity> identities)
        {
            for (var i = 0; i < identities.Count; i++)
            {
                if (identities[i] is AgentIdentity agent)
                {
                    return agent.Entry;
                }
            }
        }
        throw new InvalidOperationException("No authenticated agent on this request.");
    }
}
