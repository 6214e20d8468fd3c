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

/// <summary>A poll's answer: a job, nothing yet (both null and false), or the server's word to uninstall.</summary>
public sealed record PollResult(JobAssignment? Assignment, bool Uninstall);

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

    /// <summary>
    /// Whether the refusal is a validation problem whose every error names a field under <paramref name="field"/>
    /// (<c>items</c>, <c>items[3].item</c>): the request's other parts were not what the server objected to.
    /// </summary>
    public bool NamesOnly(string field)
    {
        try
        {
            using var problem = System.Text.Json.JsonDocument.Parse(body);
            if (problem.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object
                || !problem.RootElement.TryGetProperty("errors", out var errors)
                || errors.ValueKind != System.Text.Json.JsonValueKind.Array
                || errors.GetArrayLength() == 0)
            {
                return false;
            }
            foreach (var error in errors.EnumerateArray())
            {
                if (error.ValueKind != System.Text.Json.JsonValueKind.Object
                    || !error.TryGetProperty("field", out var named)
                    || named.GetString() is not { } name
                    || !(name == field || name.StartsWith(field + "[", StringComparison.Ordinal) || name.StartsWith(field + ".", StringComparison.Ordinal)))
                {
                    return false;
                }
            }
            return true;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }
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

    /// <summary>Binds the device key to this agent's credential (agents enrolled before device keys).</summary>
    public Task BindIdentityAsync(BindIdentityRequest request, CancellationToken ct) => SendAsync<object>(HttpMethod.Post, "identity", request, true, ct);

    public Task ReportFactsAsync(DeviceFacts facts, CancellationToken ct) => SendAsync<object>(HttpMethod.Post, "facts", facts, true, ct);

    /// <summary>Waits up to <paramref name="waitSeconds"/> for a job; null when none came.</summary>
    public async Task<JobAssignment?> PollAsync(int waitSeconds, CancellationToken ct) => (await PollForWorkAsync(waitSeconds, ct)).Assignment;

    /// <summary>
    /// Waits up to <paramref name="waitSeconds"/> for a job, or for the server's word to uninstall (<see cref="AgentUninstall.PollStatus"/>).
    /// <paramref name="previousUnanswered"/>: the previous poll got no answer, so a job it leased comes again with a whole lease.
    /// </summary>
    public async Task<PollResult> PollForWorkAsync(int waitSeconds, CancellationToken ct, bool previousUnanswered = false)
    {
        var uninstall = false;
        var path = previousUnanswered ? $"poll?wait={waitSeconds}&{AgentProtocol.PreviousPollUnansweredParameter}=true" : $"poll?wait={waitSeconds}";
        var assignment = await SendAsync<JobAssignment>(HttpMethod.Post, path, null, true, ct,
            onAnswer: status => uninstall = status == (HttpStatusCode)AgentUninstall.PollStatus);
        return new PollResult(assignment, uninstall);
    }

    /// <summary>The agent's last call once told to uninstall: what it removed (its credential is revoked with the answer).</summary>
    public Task ConfirmUninstalledAsync(UninstallReport report, CancellationToken ct) =>
        SendAsync<object>(HttpMethod.Post, AgentUninstall.ConfirmPath, report, true, ct);

    public async Task<ProgressAnswer> ReportProgressAsync(Guid jobId, ProgressReport report, CancellationToken ct) =>
        (await SendAsync<ProgressAnswer>(HttpMethod.Post, $"jobs/{jobId}/progress", report, true, ct, jobId))!;

    public Task UploadLogAsync(Guid jobId, LogChunk chunk, CancellationToken ct) =>
        SendAsync<object>(HttpMethod.Post, $"jobs/{jobId}/log", chunk, true, ct, jobId);

    public async Task<SidMapAnswer> MapSidsAsync(Guid jobId, SidMapRequest request, CancellationToken ct) =>
        (await SendAsync<SidMapAnswer>(HttpMethod.Post, $"jobs/{jobId}/sid-map", request, true, ct, jobId))!;

    public async Task<DirectoryActionAnswer> RunDirectoryActionAsync(Guid jobId, DirectoryActionRequest request, CancellationToken ct) =>
        (await SendAsync<DirectoryActionAnswer>(HttpMethod.Post, $"jobs/{jobId}/directory-action", request, true, ct, jobId))!;

    /// <summary>The way back into the source, made by the server now (see <see cref="ReturnTicketRequest"/>).</summary>
    public async Task<DestinationJoin> GetReturnTicketAsync(Guid jobId, ReturnTicketRequest request, CancellationToken ct) =>
        (await SendAsync<DestinationJoin>(HttpMethod.Post, $"jobs/{jobId}/return-ticket", request, true, ct, jobId))!;

    /// <summary>Largest provisioning package the agent takes (a bulk enrollment package is a few MB).</summary>
    public const long MaxPackageBytes = 64L << 20;

    /// <summary>Downloads the job's provisioning package for <paramref name="purpose"/> (the lease proves the job is this agent's).</summary>
    public async Task<byte[]> DownloadPackageAsync(Guid jobId, Guid leaseToken, JoinPurpose purpose, CancellationToken ct)
    {
        using var request = Authenticated(HttpMethod.Get, $"{AgentProtocol.BasePath}/jobs/{jobId}/package/{purpose.ToString().ToLowerInvariant()}");
        request.Headers.Add(AgentProtocol.LeaseHeader, leaseToken.ToString());
        return await DownloadAsync(request, MaxPackageBytes, jobId, ct);
    }

    /// <summary>The agent version the server wants this agent to run; null when it sets none.</summary>
    public Task<AgentUpdateOffer?> GetUpdateOfferAsync(CancellationToken ct) => SendAsync<AgentUpdateOffer>(HttpMethod.Get, "update", null, true, ct);

    /// <summary>Downloads an agent package, refusing anything larger than the offer said.</summary>
    public async Task<byte[]> DownloadUpdateAsync(Guid packageId, long sizeBytes, CancellationToken ct)
    {
        using var request = Authenticated(HttpMethod.Get, $"{AgentProtocol.BasePath}/update/{packageId}");
        return await DownloadAsync(request, sizeBytes, null, ct);
    }

    public Task ReportUpdateAsync(AgentUpdateReport report, CancellationToken ct) => SendAsync<object>(HttpMethod.Post, "update/report", report, true, ct);

    private HttpRequestMessage Authenticated(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue(AgentProtocol.AuthorizationScheme,
            credential ?? throw new InvalidOperationException("The agent has no credential yet; enroll first."));
        return request;
    }

    private async Task<byte[]> DownloadAsync(HttpRequestMessage request, long maxBytes, Guid? jobId, CancellationToken ct)
    {
        using var response = await SendWithinTimeoutAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        // The client's timeout ends at the headers: after them, a body (or an error's) that stalls for as long, or breaks
        // off, is the network failing too (retried), never a cancellation or an I/O error that ends the agent. A slow
        // body that keeps coming is waited for, however long it takes.
        using var stalled = CancellationTokenSource.CreateLinkedTokenSource(ct);
        stalled.CancelAfter(http.Timeout);
        try
        {
            await ThrowOnErrorAsync(response, jobId, stalled.Token);
            if (response.Content.Headers.ContentLength > maxBytes)
            {
                throw new GatewayRejectedException(HttpStatusCode.RequestEntityTooLarge, $"The package is larger than {maxBytes} bytes.");
            }
            await using var body = await response.Content.ReadAsStreamAsync(stalled.Token);
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await body.ReadAsync(chunk, stalled.Token)) > 0)
            {
                stalled.CancelAfter(http.Timeout);
                if (buffer.Length + read > maxBytes)
                {
                    throw new GatewayRejectedException(HttpStatusCode.RequestEntityTooLarge, $"The package is larger than {maxBytes} bytes.");
                }
                buffer.Write(chunk, 0, read);
            }
            return buffer.ToArray();
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new HttpRequestException($"The download stalled: nothing came for {http.Timeout.TotalSeconds:F0} s.", e);
        }
        catch (IOException e)
        {
            throw new HttpRequestException($"The download broke off: {e.Message}", e);
        }
    }

    public Task CompleteAsync(Guid jobId, CompletionReport report, CancellationToken ct) =>
        SendAsync<object>(HttpMethod.Post, $"jobs/{jobId}/complete", report, true, ct, jobId);

    private async Task<T?> SendAsync<T>(
        HttpMethod method, string path, object? body, bool authenticated, CancellationToken ct, Guid? jobId = null, Action<HttpStatusCode>? onAnswer = null)
        where T : class
    {
        using var request = authenticated ? Authenticated(method, AgentProtocol.BasePath + "/" + path) : new HttpRequestMessage(method, AgentProtocol.BasePath + "/" + path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: AgentProtocol.JsonOptions);
        }
        using var response = await SendWithinTimeoutAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        onAnswer?.Invoke(response.StatusCode);
        if (response.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.ResetContent)
        {
            return null;
        }
        await ThrowOnErrorAsync(response, jobId, ct, authenticated);
        return typeof(T) == typeof(object) ? null : await response.Content.ReadFromJsonAsync<T>(AgentProtocol.JsonOptions, ct);
    }

    /// <summary>
    /// Sends; the client's timeout (not the caller's cancellation) comes out as the network failing, which every caller
    /// retries. A package download let it out as a cancellation, and 270 agents of a 10,000-device rehearsal whose
    /// downloads outlasted it ended as crashed and started again from their journals.
    /// </summary>
    private async Task<HttpResponseMessage> SendWithinTimeoutAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken ct)
    {
        try
        {
            return await http.SendAsync(request, completion, ct);
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new HttpRequestException($"The server did not answer in {http.Timeout.TotalSeconds:F0} s.", e);
        }
    }

    private static async Task ThrowOnErrorAsync(HttpResponseMessage response, Guid? jobId, CancellationToken ct, bool authenticated = true)
    {
        switch (response.StatusCode)
        {
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
    }
}
