using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Rehome.Protocol;

namespace Rehome.Server.Gateway;

/// <summary>
/// Authenticates <c>Authorization: Agent rha_…</c> from the registry's memory, so an idle poll does not touch the
/// store. A revoked agent is refused from the moment it is revoked.
/// </summary>
public sealed class AgentAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AgentRegistry registry,
    TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = AgentProtocol.AuthorizationScheme;

    public const string PolicyName = "Agent";

    public const string AgentIdClaim = "agent_id";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith(SchemeName + " ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }
        var credential = header[(SchemeName.Length + 1)..].Trim();
        if (!AgentCredentials.TryReadAgentId(credential, out var agentId))
        {
            return AuthenticateResult.Fail("The credential is not a Rehome agent credential.");
        }
        var entry = await registry.FindAsync(agentId, Context.RequestAborted, KeepsJob.On(Context));
        if (entry is null || !AgentCredentials.Matches(credential, entry.CredentialHash))
        {
            return AuthenticateResult.Fail("The agent is unknown or its credential is wrong.");
        }
        if (entry.Revoked)
        {
            return AuthenticateResult.Fail("The agent was revoked; enroll it again with a configuration key.");
        }
        entry.SetLastSeen(time.GetUtcNow());
        Context.Items[typeof(AgentEntry)] = entry;
        var identity = new ClaimsIdentity([new Claim(AgentIdClaim, agentId.ToString())], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

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

/// <summary>Reads the authenticated agent of a gateway request.</summary>
public static class AgentHttpContextExtensions
{
    public static AgentEntry Agent(this HttpContext context) =>
        context.Items[typeof(AgentEntry)] as AgentEntry ?? throw new InvalidOperationException("No authenticated agent on this request.");
}
