using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Rehome.Protocol;

namespace Rehome.Server.Gateway;

/// <summary>
/// Authenticates <c>Authorization: Agent rha_…</c> from the registry's memory, so an idle poll does not touch the
/// store. A revoked agent is refused from the moment it is revoked. The agent's identity and its authentication result
/// are made once and kept in its <see cref="AgentEntry"/>: a poll allocates nothing here.
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

    private const string Prefix = SchemeName + " ";

    private static readonly Task<AuthenticateResult> NoResult = Task.FromResult(AuthenticateResult.NoResult());

    private static readonly Task<AuthenticateResult> NotAgentCredential = Task.FromResult(AuthenticateResult.Fail("The credential is not a Rehome agent credential."));

    private static readonly Task<AuthenticateResult> UnknownAgent = Task.FromResult(AuthenticateResult.Fail("The agent is unknown or its credential is wrong."));

    private static readonly Task<AuthenticateResult> RevokedAgent = Task.FromResult(AuthenticateResult.Fail("The agent was revoked; enroll it again with a configuration key."));

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return NoResult;
        }
        if (!AgentCredentials.TryReadAgentId(header.AsSpan(Prefix.Length).Trim(), out var agentId))
        {
            return NotAgentCredential;
        }
        var lookup = registry.FindAsync(agentId, Context.RequestAborted, KeepsJob.On(Context));
        // From memory (every request but an agent's first since the start) the answer is there at once: no state machine.
        return lookup.IsCompletedSuccessfully ? Check(header, lookup.Result) : CheckLaterAsync(header, lookup);
    }

    private async Task<AuthenticateResult> CheckLaterAsync(string header, ValueTask<AgentEntry?> lookup) => await Check(header, await lookup);

    private Task<AuthenticateResult> Check(string header, AgentEntry? entry)
    {
        if (entry is null || !AgentCredentials.Matches(header.AsSpan(Prefix.Length).Trim(), entry.CredentialHashBytes))
        {
            return UnknownAgent;
        }
        if (entry.Revoked)
        {
            return RevokedAgent;
        }
        entry.SetLastSeen(time.GetUtcNow());
        return entry.Authenticated;
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
