using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Rehome.Protocol;

namespace Rehome.Agent.Polling;

/// <summary>The server no longer lets this agent hold the job (lease lapsed, taken over, stopped): stop touching it.</summary>
public sealed class LeaseLostException(Guid jobId) : Exception($"The lease on job {jobId} was lost.")
{
    public Guid JobId { get; } = jobId;
}

/// <summary>The server refuses this agent's credential (revoked or removed): it must enroll again.</summary>
public sealed class AgentRefusedException(string message) : Exception(message);

/// <summary>The server answered 5xx, 429 or 408; <see cref="RetryAfter"/> is how long it asked the agent to wait.</summary>
public sealed class ServerBusyException(int status, TimeSpan? retryAfter)
    : HttpRequestException($"The server answered {status}.", null, (HttpStatusCode)status)
{
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>The server answered with an error the agent cannot fix by retrying (a bad message).</summary>
public sealed class GatewayRejectedException(HttpStatusCode status, string body)
    : Exception($"The server refused the request ({(int)status}): {body}")
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>
/// The agent's side of /agent/v1. The agent always dials out; the server never needs to reach the device.
/// Network errors surface as <see cref="HttpRequestException"/>; the callers decide whether to retry.
/// </summary>
public sealed class GatewayClient(HttpClient http)
{
    private string? credential;

    public HttpClient Http => http;

    public void UseCredential(string agentCredential) => credential = agentCredential;

    public async Task<EnrollResponse> EnrollAsync(EnrollRequest request, CancellationToken ct) =>
        (await SendAsync<EnrollResponse>(HttpMethod.Post, "enroll", request, authenticated: false, ct))!;

    public Task ReportFactsAsync(DeviceFacts facts, CancellationToken ct) => SendAsync<object>(HttpMethod.Post, "facts", facts, true, ct);

    /// <summary>Waits up to <paramref name="waitSeconds"/> for a job; null when none came.</summary>
    public Task<JobAssignment?> PollAsync(int waitSeconds, CancellationToken ct) =>
        SendAsync<JobAssignment>(HttpMethod.Post, $"poll?wait={waitSeconds}", null, true, ct);

    public async Task<ProgressAnswer> ReportProgressAsync(Guid jobId, ProgressReport report, CancellationToken ct) =>
        (await SendAsync<ProgressAnswer>(HttpMethod.Post, $"jobs/{jobId}/progress", report, true, ct, jobId))!;

    public Task UploadLogAsync(Guid jobId, LogChunk chunk, CancellationToken ct) =>
        SendAsync<object>(HttpMethod.Post, $"jobs/{jobId}/log", chunk, true, ct, jobId);

    public async Task<SidMapAnswer> MapSidsAsync(Guid jobId, SidMapRequest request, CancellationToken ct) =>
        (await SendAsync<SidMapAnswer>(HttpMethod.Post, $"jobs/{jobId}/sid-map", request, true, ct, jobId))!;

    public async Task<DirectoryActionAnswer> RunDirectoryActionAsync(Guid jobId, DirectoryActionRequest request, CancellationToken ct) =>
        (await SendAsync<DirectoryActionAnswer>(HttpMethod.Post, $"jobs/{jobId}/directory-action", request, true, ct, jobId))!;

    public Task CompleteAsync(Guid jobId, CompletionReport report, CancellationToken ct) =>
        SendAsync<object>(HttpMethod.Post, $"jobs/{jobId}/complete", report, true, ct, jobId);

    private async Task<T?> SendAsync<T>(HttpMethod method, string path, object? body, bool authenticated, CancellationToken ct, Guid? jobId = null)
        where T : class
    {
        using var request = new HttpRequestMessage(method, AgentProtocol.BasePath + "/" + path);
        if (authenticated)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue(AgentProtocol.AuthorizationScheme,
                credential ?? throw new InvalidOperationException("The agent has no credential yet; enroll first."));
        }
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: AgentProtocol.JsonOptions);
        }
        HttpResponseMessage sent;
        try
        {
            sent = await http.SendAsync(request, ct);
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            // The client's timeout, not the caller's cancellation: to the agent it is the network failing.
            throw new HttpRequestException($"The server did not answer in {http.Timeout.TotalSeconds:F0} s.", e);
        }
        using var response = sent;
        switch (response.StatusCode)
        {
            case HttpStatusCode.NoContent:
                return null;
            case HttpStatusCode.Conflict when jobId is { } id:
                throw new LeaseLostException(id);
            case HttpStatusCode.Unauthorized when authenticated:
                throw new AgentRefusedException(await response.Content.ReadAsStringAsync(ct));
            case >= HttpStatusCode.InternalServerError or HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout:
                // The server is unwell or busy: the same as the network being down, for the caller, who waits at
                // least as long as the server asked (a directory outage behind it, say).
                throw new ServerBusyException((int)response.StatusCode, response.Headers.RetryAfter?.Delta);
            case >= HttpStatusCode.BadRequest:
                throw new GatewayRejectedException(response.StatusCode, await response.Content.ReadAsStringAsync(ct));
        }
        return typeof(T) == typeof(object) ? null : await response.Content.ReadFromJsonAsync<T>(AgentProtocol.JsonOptions, ct);
    }
}
