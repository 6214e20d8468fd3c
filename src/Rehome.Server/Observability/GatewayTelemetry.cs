namespace Rehome.Server.Observability;

/// <summary>The gateway's directory calls, observed from the request they answer.</summary>
public static class GatewayTelemetry
{
    /// <summary>
    /// Makes the directory call of a gateway request (<see cref="RehomeTelemetry.DirectoryCallAsync{T}"/>), named
    /// after the request's endpoint (MapJobSids, RunJobDirectoryAction, MakeJobReturnTicket).
    /// </summary>
    public static Task<IResult> ObserveDirectoryCallAsync(this HttpContext http, Guid jobId, Func<Task<IResult>> call) =>
        http.RequestServices.GetRequiredService<RehomeTelemetry>().DirectoryCallAsync(
            http.GetEndpoint()?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName ?? "Gateway", jobId, null, call);
}
