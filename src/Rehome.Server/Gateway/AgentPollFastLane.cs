namespace Rehome.Server.Gateway;

/// <summary>
/// The idle poll's short way through the server (issue 16): a poll (<see cref="AgentPollEndpoint"/>) that carries the
/// right credential of an unrevoked agent the server remembers is answered here, right after routing and the security
/// headers, without the exception handler, status-code pages, rate limiter, authorization, project limits and
/// antiforgery middleware, none of which does anything for it but allocate. The acceptance is the authorization's own:
/// <see cref="AgentCredentialCheck"/>'s success, which is all the gateway's policy asks for (the
/// <see cref="GatewayPolicyEvaluator"/> grants it from the same answer). Every other request, and every poll that
/// would be refused or whose agent is not remembered yet, goes on through the whole pipeline exactly as before. What
/// could fail on the short way (an exception, a bad <c>wait</c>, the agent revoked while its poll was held) is answered
/// through a small pipeline of the same exception handler and status-code pages, so the answer is theirs.
/// </summary>
public static class AgentPollFastLane
{
    public static IApplicationBuilder UseAgentPollFastLane(this IApplicationBuilder app)
    {
        var answers = app.New();
        answers.UseExceptionHandler();
        answers.UseStatusCodePages();
        answers.Run(AgentPollEndpoint.FailAgain);
        var answerPipeline = answers.Build();
        var credentials = app.ApplicationServices.GetRequiredService<AgentCredentialCheck>();
        var poll = app.ApplicationServices.GetRequiredService<AgentPollEndpoint>();
        return app.Use(next => context =>
            context.GetEndpoint()?.Metadata.GetMetadata<AgentPollEndpoint.Marker>() is not null && credentials.AcceptedFromMemory(context.Request) is { } agent
                ? poll.PollAsync(context, agent, answerPipeline)
                : next(context));
    }
}
