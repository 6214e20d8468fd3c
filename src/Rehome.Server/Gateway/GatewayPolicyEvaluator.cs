using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Rehome.Server.Gateway;

/// <summary>
/// The authorization middleware's policy evaluator, one for the server. A policy that asks for nothing but an
/// authenticated agent (the gateway's <see cref="AgentAuthenticationHandler.PolicyName"/>) is decided here from the
/// agent's cached answer (<see cref="AgentCredentialCheck"/>): no authentication service, handler, merged principal,
/// ticket or authorization context a request, which the framework's evaluator makes on every long poll. Anything
/// else, and every refusal (so that the challenge says why), goes to the framework's <see cref="PolicyEvaluator"/>
/// built on the request's own authorization service, exactly as it would without this class.
/// </summary>
public sealed class GatewayPolicyEvaluator(AgentCredentialCheck agents) : IPolicyEvaluator
{
    private static readonly Task<PolicyAuthorizationResult> Allowed = Task.FromResult(PolicyAuthorizationResult.Success());

    public Task<AuthenticateResult> AuthenticateAsync(AuthorizationPolicy policy, HttpContext context)
    {
        if (!IsAgentOnly(policy))
        {
            return Framework(context).AuthenticateAsync(policy, context);
        }
        var agent = agents.AuthenticateAsync(context);
        if (!agent.IsCompletedSuccessfully)
        {
            // An agent not cached yet (its first request after a start): its one lookup is awaited, not started again
            // by the framework's handler; a store that cannot answer fails the request as the handler would have.
            return AwaitedAsync(agent, policy, context);
        }
        return Accepted(agent.Result, context) ? agent : Framework(context).AuthenticateAsync(policy, context);
    }

    private static async Task<AuthenticateResult> AwaitedAsync(Task<AuthenticateResult> agent, AuthorizationPolicy policy, HttpContext context)
    {
        var result = await agent;
        return Accepted(result, context) ? result : await Framework(context).AuthenticateAsync(policy, context);
    }

    /// <summary>Whether the agent's answer is a success, made the request's user if so.</summary>
    private static bool Accepted(AuthenticateResult result, HttpContext context)
    {
        if (!result.Succeeded)
        {
            return false;
        }
        // The authorization middleware makes the request's user this result's principal when no authentication ran
        // before it (the agent gateway skips it): set here only otherwise, which costs a feature a request.
        if (context.Features.Get<IAuthenticateResultFeature>() is not null)
        {
            context.User = result.Principal!;
        }
        return true;
    }

    public Task<PolicyAuthorizationResult> AuthorizeAsync(AuthorizationPolicy policy, AuthenticateResult authenticationResult, HttpContext context, object? resource)
    {
        // Only the agent's own cached success is taken here: it is what AuthenticateAsync above returned.
        if (IsAgentOnly(policy) && authenticationResult.Succeeded && authenticationResult.Principal?.Identity is AgentIdentity)
        {
            return Allowed;
        }
        return Framework(context).AuthorizeAsync(policy, authenticationResult, context, resource);
    }

    private static PolicyEvaluator Framework(HttpContext context) => new(context.RequestServices.GetRequiredService<IAuthorizationService>());

    /// <summary>The agent scheme alone, and no requirement but an authenticated user.</summary>
    internal static bool IsAgentOnly(AuthorizationPolicy policy)
    {
        if (policy.AuthenticationSchemes.Count != 1 || policy.AuthenticationSchemes[0] != AgentAuthenticationHandler.SchemeName)
        {
            return false;
        }
        for (var i = 0; i < policy.Requirements.Count; i++)
        {
            if (policy.Requirements[i] is not DenyAnonymousAuthorizationRequirement)
            {
                return false;
            }
        }
        return true;
    }
}
