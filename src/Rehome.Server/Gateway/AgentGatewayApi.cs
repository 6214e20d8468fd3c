using System.Globalization;
using Rehome.Protocol;
using Rehome.Server.Administration;
using Rehome.Server.Api;

namespace Rehome.Server.Gateway;

/// <summary>
/// /agent/v1: what devices call, mapped to HTTP. Enrollment takes a configuration key and the proof of the device's
/// key (<see cref="AgentEnrollment"/>); every other call takes the agent's own credential and reaches only that
/// agent's jobs: the long poll (<see cref="AgentPolls"/>), the job's reports (<see cref="JobReports"/>) and its
/// directory calls (<see cref="JobDirectoryCalls"/>), each write from the agent that holds the job's lease, with its token.
/// </summary>
public static class AgentGatewayApi
{
    public const string EnrollmentRateLimit = "agent-enrollment";

    /// <summary>Carries the job's lease token on the calls without a body (the package download).</summary>
    public const string LeaseHeader = AgentProtocol.LeaseHeader;

    public static IEndpointRouteBuilder MapAgentGateway(this IEndpointRouteBuilder app)
    {
        var root = app.MapGroup(AgentProtocol.BasePath).WithTags("Agent gateway")
            .RequireAuthorization(AgentAuthenticationHandler.PolicyName);
        // The long poll takes its turns on the store only when it looks (AgentPolls); every other call, for the whole call.
        AgentPollEndpoint.Map(root);
        var gateway = root.MapGroup("").AddEndpointFilter<GatewayStoreLaneFilter>();
        gateway.MapPost("/enroll", EnrollAsync).AllowAnonymous().RequireRateLimiting(EnrollmentRateLimit).WithName("EnrollAgent");
        gateway.MapPost("/identity", BindIdentityAsync).WithName("BindAgentIdentity");
        gateway.MapPost("/facts", ReportFactsAsync).WithName("ReportDeviceFacts");
        gateway.MapPost("/" + AgentUninstall.ConfirmPath, ConfirmUninstalledAsync).WithName("ConfirmAgentUninstalled");
        gateway.MapPost("/jobs/{id:guid}/progress", ReportProgressAsync).WithName("ReportJobProgress").WithMetadata(KeepsJob.Instance);
        gateway.MapPost("/jobs/{id:guid}/log", UploadLogAsync).WithName("UploadJobLog");
        gateway.MapPost("/jobs/{id:guid}/sid-map", MapSidsAsync).WithName("MapJobSids");
        gateway.MapPost("/jobs/{id:guid}/directory-action", RunDirectoryActionAsync).WithName("RunJobDirectoryAction");
        gateway.MapPost("/jobs/{id:guid}/return-ticket", MakeReturnTicketAsync).WithName("MakeJobReturnTicket");
        gateway.MapGet("/jobs/{id:guid}/package/{purpose}", DownloadPackageAsync).WithName("DownloadJobPackage");
        gateway.MapPost("/jobs/{id:guid}/complete", CompleteAsync).WithName("CompleteJob").WithMetadata(KeepsJob.Instance);
        return app;
    }

    private static async Task<IResult> EnrollAsync(EnrollRequest? request, HttpContext http, AgentEnrollment enrollment, CancellationToken ct) =>
        (await enrollment.EnrollAsync(request, http.Connection.RemoteIpAddress?.ToString(), ct))
            .ToResult(done => done.Held ? Results.Json(done.Response, statusCode: StatusCodes.Status202Accepted) : Results.Ok(done.Response));

    private static async Task<IResult> BindIdentityAsync(BindIdentityRequest? request, HttpContext http, AgentEnrollment enrollment, CancellationToken ct) =>
        (await enrollment.BindKeyAsync(http.Agent().AgentId, request, http.Connection.RemoteIpAddress?.ToString(), ct)).ToResult(_ => Results.NoContent());

    private static async Task<IResult> ReportFactsAsync(DeviceFacts? facts, HttpContext http, AgentEnrollment enrollment, CancellationToken ct) =>
        (await enrollment.ReportFactsAsync(http.Agent().AgentId, facts, ct)).ToResult(_ => Results.NoContent());

    /// <summary>The agent's last call once told to uninstall: it removed its data; its credential is revoked now.</summary>
    private static async Task<IResult> ConfirmUninstalledAsync(UninstallReport? report, HttpContext http, AgentCommands agents, CancellationToken ct) =>
        (await agents.ConfirmUninstalledAsync(http.Agent().AgentId, report, ct)).ToResult(_ => Results.NoContent());

    private static async Task<IResult> ReportProgressAsync(Guid id, ProgressReport? report, HttpContext http, JobReports reports, CancellationToken ct) =>
        (await reports.ProgressAsync(id, http.Agent().AgentId, report, ct)).ToResult(Results.Ok);

    private static async Task<IResult> UploadLogAsync(Guid id, LogChunk? chunk, HttpContext http, JobReports reports, CancellationToken ct) =>
        (await reports.LogAsync(id, http.Agent().AgentId, chunk, ct)).ToResult(_ => Results.NoContent());

    private static async Task<IResult> CompleteAsync(Guid id, CompletionReport? report, HttpContext http, JobReports reports, CancellationToken ct) =>
        (await reports.CompleteAsync(id, http.Agent().AgentId, report, ct)).ToResult(_ => Results.NoContent());

    private static async Task<IResult> MapSidsAsync(Guid id, SidMapRequest? request, HttpContext http, JobDirectoryCalls calls, CancellationToken ct) =>
        WithRetryAfter(http, await calls.MapSidsAsync(id, http.Agent().AgentId, request, ct), Results.Ok);

    private static async Task<IResult> RunDirectoryActionAsync(Guid id, DirectoryActionRequest? request, HttpContext http, JobDirectoryCalls calls, CancellationToken ct) =>
        WithRetryAfter(http, await calls.RunActionAsync(id, http.Agent().AgentId, request, ct), Results.Ok);

    /// <summary>The rejoin's way back into its source (a secret: audited and logged without its data).</summary>
    private static async Task<IResult> MakeReturnTicketAsync(Guid id, ReturnTicketRequest? request, HttpContext http, JobDirectoryCalls calls, CancellationToken ct) =>
        WithRetryAfter(http, await calls.MakeReturnTicketAsync(id, http.Agent().AgentId, request, ct), Results.Ok);

    /// <summary>Streams a rejoin's provisioning package to the agent holding the job's lease, given in the <c>X-Rehome-Lease</c> header.</summary>
    private static async Task<IResult> DownloadPackageAsync(Guid id, string purpose, HttpContext http, JobDirectoryCalls calls, CancellationToken ct) =>
        (await calls.PackageAsync(id, http.Agent().AgentId, purpose, http.Request.Headers[LeaseHeader].ToString(), ct))
            .ToResult(content => Results.File(content, "application/octet-stream"));

    /// <summary>A directory that asked the agent to come back later says when in the Retry-After header too (agents back off by it).</summary>
    private static IResult WithRetryAfter<T>(HttpContext http, Outcome<T> outcome, Func<T, IResult> ok)
    {
        if (outcome.Failure?.Extensions?.GetValueOrDefault(JobDirectoryCalls.RetryAfterExtension) is int seconds)
        {
            http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }
        return outcome.ToResult(ok);
    }
}
