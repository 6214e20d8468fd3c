using System.Diagnostics;

namespace Rehome.Server.Observability;

/// <summary>
/// Times the agents' long poll, from its arrival to its answer, and says whether it brought a job: added to the
/// poll's route, so the gateway's code stays as it is.
/// </summary>
public sealed class PollTelemetryFilter(RehomeTelemetry telemetry) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var started = Stopwatch.GetTimestamp();
        var answer = await next(context);
        telemetry.PollAnswered(Stopwatch.GetElapsedTime(started), answer is IStatusCodeHttpResult { StatusCode: StatusCodes.Status200OK });
        return answer;
    }
}
