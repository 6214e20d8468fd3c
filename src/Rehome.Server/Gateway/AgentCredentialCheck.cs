using Microsoft.AspNetCore.Authentication;

namespace Rehome.Server.Gateway;

/// <summary>
/// Checks <c>Authorization: Agent rha_…</c> against the registry's memory, so an idle poll does not touch the store:
/// the agent scheme's handler (<see cref="AgentAuthenticationHandler"/>) and the gateway's policy evaluator
/// (<see cref="GatewayPolicyEvaluator"/>) both ask it. A revoked agent is refused from the moment it is revoked. The
/// answers are made once (an agent's success is kept in its <see cref="AgentEntry"/>): a check allocates nothing.
/// </summary>
public sealed class AgentCredentialCheck(AgentRegistry registry, TimeProvider time)
{
    private const string Prefix = AgentAuthenticationHandler.SchemeName + " ";

    private static readonly Task<AuthenticateResult> NoResult = Task.FromResult(AuthenticateResult.NoResult());

    private static readonly Task<AuthenticateResult> NotAgentCredential = Task.FromResult(AuthenticateResult.Fail("The credential is not a Rehome agent credential."));

    private static readonly Task<AuthenticateResult> UnknownAgent = Task.FromResult(AuthenticateResult.Fail("The agent is unknown or its credential is wrong."));

    private static readonly Task<AuthenticateResult> RevokedAgent = Task.FromResult(AuthenticateResult.Fail("The agent was revoked; enroll it again with a configuration key."));

    /// <summary>Whether the request carries an agent's credential at all (a cheap look at the header, no check).</summary>
    public static bool CarriesAgentCredential(HttpRequest request) =>
        request.Headers.Authorization.ToString().StartsWith(Prefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>The agent's authentication: no result without an agent credential, a failure saying why, or the agent's cached success.</summary>
    public Task<AuthenticateResult> AuthenticateAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return NoResult;
        }
        if (!AgentCredentials.TryReadAgentId(header.AsSpan(Prefix.Length).Trim(), out var agentId))
        {
            return NotAgentCredential;
        }
        var lookup = registry.FindAsync(agentId, context.RequestAborted, KeepsJob.On(context));
        // From memory (every request but an agent's first since the start) the answer is there at once: no state machine.
        return lookup.IsCompletedSuccessfully ? Check(header, lookup.Result) : CheckLaterAsync(header, lookup);
    }

    /// <summary>
    /// The agent, when the request carries the right credential of an unrevoked agent the server remembers: the same
    /// acceptance as <see cref="AuthenticateAsync"/>'s success, without its result. Null for anything else (no
    /// credential, a wrong one, a revoked or unknown agent, one not remembered yet): the caller takes the full
    /// pipeline, whose authentication answers it (<see cref="AgentPollFastLane"/>).
    /// </summary>
    public AgentEntry? AcceptedFromMemory(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase)
            || !AgentCredentials.TryReadAgentId(header.AsSpan(Prefix.Length).Trim(), out var agentId)
            || registry.Remembered(agentId) is not { } entry
            || Check(header, entry) != entry.Authenticated)
        {
            return null;
        }
        return entry;
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
}
