using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.ExceptionServices;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Rehome.Protocol;
using Rehome.Server.Observability;

namespace Rehome.Server.Gateway;

/// <summary>
/// <c>POST /agent/v1/poll</c>, the long poll, as a hand-written request delegate: no minimal-API binding (the query
/// string parsed into a dictionary for one <c>wait</c>), no <see cref="IResult"/>, no services resolved a request. It
/// answers as the minimal API did: 204 nothing, 200 the job's assignment as JSON, 205 uninstall, 401 revoked meanwhile
/// (a bare status: status-code pages write its problem), and a <c>wait</c> the framework would not bind is the same
/// <see cref="BadHttpRequestException"/>, answered by <see cref="Api.BadRequestHandler"/> as a problem naming
/// <c>wait</c>. A known agent's poll comes here straight from <see cref="AgentPollFastLane"/>; any other, through the
/// whole pipeline (its authorization included).
/// </summary>
public sealed class AgentPollEndpoint(AgentPolls polls, RehomeTelemetry telemetry, IOptions<JsonOptions> json)
{
    /// <summary>The query parameter: how long to hold the poll, in seconds (<see cref="AgentPolls.DefaultWaitSeconds"/> when absent).</summary>
    public const string WaitParameter = "wait";

    /// <summary>The query as agents send it: <c>?wait=</c> and digits only (nine at most, so never past an int).</summary>
    private const string PlainWait = "?" + WaitParameter + "=";

    private static readonly SearchValues<char> Digits = SearchValues.Create("0123456789");

    /// <summary>Maps the poll in the gateway's group (whose policy requires an agent) and describes it to OpenAPI.</summary>
    public static IEndpointConventionBuilder Map(IEndpointRouteBuilder group)
    {
        RequestDelegate handler = group.ServiceProvider.GetRequiredService<AgentPollEndpoint>().HandleAsync;
        return group.MapPost("/poll", handler)
            .WithName("PollForJob")
            .WithMetadata(
                Marker.Instance,
                // The API explorer describes only endpoints with a method (a minimal API's handler); this one's has no parameter to bind.
                handler.Method,
                new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(JobAssignment), ["application/json"]),
                new ProducesResponseTypeMetadata(StatusCodes.Status204NoContent, typeof(void)),
                new ProducesResponseTypeMetadata(AgentUninstall.PollStatus, typeof(void)),
                new ProducesResponseTypeMetadata(StatusCodes.Status400BadRequest, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), ["application/problem+json"]),
                new ProducesResponseTypeMetadata(StatusCodes.Status401Unauthorized, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), ["application/problem+json"]))
            .AddOpenApiOperationTransformer(static (operation, _, _) =>
            {
                // What the framework's binding described for `int? wait`; the request delegate has no parameters to infer it from.
                operation.Parameters ??= [];
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = WaitParameter,
                    In = ParameterLocation.Query,
                    Description = $"How long to hold the poll when there is no job, in seconds (0 to {AgentProtocol.MaxPollSeconds}; {AgentPolls.DefaultWaitSeconds} when absent).",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.Integer | JsonSchemaType.String, Format = "int32", Pattern = "^-?(?:0|[1-9]\\d*)$" },
                });
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = AgentProtocol.PreviousPollUnansweredParameter,
                    In = ParameterLocation.Query,
                    Description = "true when the agent's previous poll reached the server but its answer never came back (a timeout, a connection lost midway): a job leased to it and sent again gets a whole lease from now, for a bounded time.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.Boolean },
                });
                return Task.CompletedTask;
            });
    }

    /// <summary>A poll that came through the whole pipeline: its authorization made the request's user the agent.</summary>
    private Task HandleAsync(HttpContext http) => PollAsync(http, http.Agent(), answerPipeline: null);

    /// <summary>Marks the poll's endpoint for <see cref="AgentPollFastLane"/>.</summary>
    internal sealed class Marker
    {
        public static Marker Instance { get; } = new();
    }

    /// <summary>
    /// Polls for <paramref name="agent"/> and answers. With an <paramref name="answerPipeline"/> (the fast lane, outside
    /// the exception handler and status-code pages), a failure or a refusal is answered through it, so that its
    /// answer is theirs; without one (the whole pipeline), they answer it on the way out.
    /// </summary>
    internal Task PollAsync(HttpContext http, AgentEntry agent, RequestDelegate? answerPipeline)
    {
        TimeSpan waitFor;
        long started;
        PollStep step;
        PollLook look;
        try
        {
            waitFor = AgentPolls.WaitFor(ReadWait(http.Request));
            agent.PreviousPollUnanswered = ReadPreviousPollUnanswered(http.Request);
            started = Stopwatch.GetTimestamp();
            step = polls.Look(agent, waitFor, started, http.RequestAborted, out look);
        }
        catch (Exception failure) when (answerPipeline is not null)
        {
            return AnswerFailure(http, answerPipeline, ExceptionDispatchInfo.Capture(failure));
        }
        return step switch
        {
            // An answer at once (revoked, nothing with wait=0) finishes without a state machine.
            PollStep.Answered => Guarded(http, answerPipeline, Answer(http, started, look.Answer!, answerPipeline)),
            // The idle poll: held in the agent's HeldPoll, its only allocation the request's own task.
            PollStep.Waiting => HeldPoll.Hold(this, http, agent, waitFor, started, look.Waiting, answerPipeline),
            // The store has something to say (a new generation, a mapping to link, the agent read again).
            _ => AnswerLaterAsync(http, started, polls.PollAsync(agent, waitFor, started, http.RequestAborted), answerPipeline),
        };
    }

    /// <summary>On the fast lane, an answer that fails while it is written (its JSON) is answered as a failure too.</summary>
    private static Task Guarded(HttpContext http, RequestDelegate? answerPipeline, Task answering) =>
        answerPipeline is null || answering.IsCompletedSuccessfully ? answering : GuardedAsync(http, answerPipeline, answering);

    private static async Task GuardedAsync(HttpContext http, RequestDelegate answerPipeline, Task answering)
    {
        try
        {
            await answering;
        }
        catch (Exception failure)
        {
            await AnswerFailure(http, answerPipeline, ExceptionDispatchInfo.Capture(failure));
        }
    }

    /// <summary>
    /// The held poll's look after its waiter woke: its request aborted is its cancellation. On the fast lane a failure is
    /// given back to be answered through the answer pipeline; on the whole pipeline it is thrown, for its middleware.
    /// </summary>
    internal PollStep LookAgain(HttpContext http, AgentEntry agent, TimeSpan waitFor, long started, RequestDelegate? answerPipeline,
        out PollLook look, out ExceptionDispatchInfo? failure)
    {
        failure = null;
        try
        {
            var ct = http.RequestAborted;
            ct.ThrowIfCancellationRequested();
            return polls.Look(agent, waitFor, started, ct, out look);
        }
        catch (Exception e) when (answerPipeline is not null)
        {
            look = default;
            failure = ExceptionDispatchInfo.Capture(e);
            return PollStep.Answered;
        }
    }

    /// <summary>The held poll's end: its failure, its answer, or the store's look in <see cref="AgentPolls.PollAsync"/>.</summary>
    internal Task Finish(HttpContext http, AgentEntry agent, TimeSpan waitFor, long started, PollStep step, PollLook look,
        ExceptionDispatchInfo? failure, RequestDelegate? answerPipeline) =>
        failure is not null ? AnswerFailure(http, answerPipeline!, failure)
        : step == PollStep.Answered ? Guarded(http, answerPipeline, Answer(http, started, look.Answer!, answerPipeline))
        : AnswerLaterAsync(http, started, polls.PollAsync(agent, waitFor, started, http.RequestAborted), answerPipeline);

    private async Task AnswerLaterAsync(HttpContext http, long started, ValueTask<PollAnswer> pending, RequestDelegate? answerPipeline)
    {
        try
        {
            await Answer(http, started, await pending, answerPipeline);
        }
        catch (Exception failure) when (answerPipeline is not null)
        {
            await AnswerFailure(http, answerPipeline, ExceptionDispatchInfo.Capture(failure));
        }
    }

    private Task Answer(HttpContext http, long started, PollAnswer answer, RequestDelegate? answerPipeline)
    {
        telemetry.PollAnswered(Stopwatch.GetElapsedTime(started), answer.Assignment is not null);
        switch (answer)
        {
            case { Revoked: true }:
                // A bare 401, as Results.Unauthorized() answered: status-code pages give it its problem body.
                return answerPipeline is null ? Status(http, StatusCodes.Status401Unauthorized) : AnswerFailure(http, answerPipeline, exception: null);
            case { Assignment: { } assignment }:
                http.Response.StatusCode = StatusCodes.Status200OK;
                return http.Response.WriteAsJsonAsync(assignment, json.Value.SerializerOptions);
            case { Uninstall: true }:
                return Status(http, AgentUninstall.PollStatus);
            default:
                return Status(http, StatusCodes.Status204NoContent);
        }
    }

    private static Task Status(HttpContext http, int status)
    {
        http.Response.StatusCode = status;
        return Task.CompletedTask;
    }

    /// <summary>
    /// Hands a failure to the answer pipeline, which answers it as the whole pipeline would: an exception, or (none) the
    /// revoked agent's refusal.
    /// </summary>
    private static Task AnswerFailure(HttpContext http, RequestDelegate answerPipeline, ExceptionDispatchInfo? exception)
    {
        http.Features.Set(new PendingFailure(exception));
        return answerPipeline(http);
    }

    /// <summary>The last step of the fast lane's answer pipeline (after its exception handler and status-code pages): the failure again.</summary>
    internal static Task FailAgain(HttpContext http)
    {
        var failure = http.Features.Get<PendingFailure>() ?? throw new InvalidOperationException("The poll's answer pipeline ran without a failure.");
        failure.Exception?.Throw();
        return Status(http, StatusCodes.Status401Unauthorized);
    }

    /// <summary>What the answer pipeline answers: the exception, or none for the revoked agent's 401.</summary>
    private sealed record PendingFailure(ExceptionDispatchInfo? Exception);

    /// <summary>
    /// <see cref="AgentProtocol.PreviousPollUnansweredParameter"/> as the framework's binding of <c>bool?</c> reads it:
    /// absent or empty is false, otherwise <c>true</c> or <c>false</c> (any case) or a <see cref="BadHttpRequestException"/>
    /// naming it. The agent's usual <c>?wait=25</c> alone is not parsed.
    /// </summary>
    internal static bool ReadPreviousPollUnanswered(HttpRequest request)
    {
        var query = request.QueryString.Value.AsSpan();
        if (query.IsEmpty || (query.StartsWith(PlainWait, StringComparison.Ordinal) && !query.Contains('&')))
        {
            return false;
        }
        string? text = request.Query[AgentProtocol.PreviousPollUnansweredParameter];
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }
        return bool.TryParse(text, out var unanswered) ? unanswered
            : throw new BadHttpRequestException($"Failed to bind parameter \"Nullable<bool> {AgentProtocol.PreviousPollUnansweredParameter}\" from \"{text}\".", StatusCodes.Status400BadRequest);
    }

    /// <summary>
    /// <c>wait</c> as the framework's binding of <c>int? wait</c> reads it: absent or empty is null; otherwise a whole
    /// number (invariant culture, sign and surrounding spaces allowed) or a <see cref="BadHttpRequestException"/> with
    /// the framework's own message. The agent's plain <c>?wait=25</c> is read from the raw query without parsing the
    /// query string; anything else (another parameter, escapes, another case, repeats) through the framework's own
    /// query collection, so it reads exactly as before.
    /// </summary>
    internal static int? ReadWait(HttpRequest request)
    {
        var query = request.QueryString.Value.AsSpan();
        if (query.IsEmpty)
        {
            return null;
        }
        var plain = query.StartsWith(PlainWait, StringComparison.Ordinal) ? query[PlainWait.Length..] : default;
        if (plain.Length is > 0 and <= 9 && !plain.ContainsAnyExcept(Digits))
        {
            return int.Parse(plain, NumberStyles.None, CultureInfo.InvariantCulture);
        }
        string? text = request.Query[WaitParameter];
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var wait))
        {
            return wait;
        }
        throw new BadHttpRequestException($"Failed to bind parameter \"Nullable<int> {WaitParameter}\" from \"{text}\".", StatusCodes.Status400BadRequest);
    }
}
