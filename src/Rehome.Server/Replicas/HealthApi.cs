using Rehome.Server.Api;

namespace Rehome.Server.Replicas;

/// <summary>
/// For load balancers and orchestrators, open to anyone and saying nothing secret: <c>/healthz</c> (the process
/// answers; no store access, so a database outage does not get every replica restarted) and <c>/readyz</c> (the
/// store answers and is migrated: send this replica traffic).
/// </summary>
public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Ok(new { status = "up" })).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/readyz", ReadyAsync).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> ReadyAsync(StoreReadiness readiness, CancellationToken ct)
    {
        var state = await readiness.CheckAsync(ct);
        return state.Ready
            ? Results.Ok(new { status = "ready" })
            : Problems.Rule(StatusCodes.Status503ServiceUnavailable, "Not ready", state.Rule!, state.Message);
    }
}
