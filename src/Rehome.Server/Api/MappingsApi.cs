using System.Text;
using Rehome.Core.Mappings;
using Rehome.Server.Administration;
using Rehome.Server.Auth;
using Rehome.Server.Mappings;
using Rehome.Server.Store;

namespace Rehome.Server.Api;

public sealed record MoveMappingInput(Guid ProjectId);

/// <summary>
/// What an import did. <paramref name="IgnoredColumns"/> are columns of the file that Rehome does not know (an
/// administrator's notes, say), left alone; <paramref name="Note"/> says so in a sentence, or is null.
/// </summary>
public sealed record ImportResult(int Created, int Updated, IReadOnlyList<string> IgnoredColumns, string? Note);

/// <summary>
/// A page of a project's mappings. <paramref name="TotalIsEstimate"/>: the total was counted up to 15 seconds
/// before (more than 10,000 matching; see <see cref="MappingCounts"/>). <paramref name="Next"/>: the cursor of the
/// page after this one (<c>after=</c>), null on the last page.
/// </summary>
public sealed record MappingPage(IReadOnlyList<MappingView> Items, int Total, bool TotalIsEstimate, int PageNumber, int PageSize, string? Next);

/// <summary>/api/v1/projects/{id}/mappings and /api/v1/mappings/{id}.</summary>
public static class MappingsApi
{
    public static RouteGroupBuilder MapMappingsApi(this RouteGroupBuilder api)
    {
        var inProject = api.MapGroup("/projects/{projectId:guid}/mappings").WithTags("Mappings");
        inProject.MapGet("/", ListAsync).WithName("ListMappings").RequireRole(Role.Viewer)
            .WithSummary("A page of the project's mappings, filtered by status, stage, last readiness outcome and text, sorted; " +
                "'after' (the 'next' of the page before) continues a sort at any depth.");
        inProject.MapPost("/", CreateAsync).WithName("CreateMapping").RequireRole(Role.Operator);
        inProject.MapPost("/import", ImportAsync).WithName("ImportMappings").RequireRole(Role.Operator)
            .Accepts<string>("text/csv")
            .WithSummary("Imports a CSV of mappings, all or nothing; rows for devices already in the project update them.");
        inProject.MapGet("/export", ExportAsync).WithName("ExportMappings").RequireRole(Role.Viewer).Produces<string>(200, "text/csv");

        var single = api.MapGroup("/mappings").WithTags("Mappings");
        single.MapGet("/{id:guid}", async (Guid id, MappingCommands mappings, CancellationToken ct) =>
            await mappings.GetAsync(id, ct) is { } m ? Results.Ok(m) : Problems.NotFound($"Mapping {id}")).WithName("GetMapping").RequireRole(Role.Viewer);
        single.MapPut("/{id:guid}", UpdateAsync).WithName("UpdateMapping").RequireRole(Role.Operator);
        single.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteMapping").RequireRole(Role.Operator);
        single.MapPost("/{id:guid}/move", MoveAsync).WithName("MoveMapping").RequireRole(Role.Operator)
            .WithSummary("Moves a mapping to another project: the one way a device changes project.");
        single.MapGet("/{id:guid}/report", ReportAsync).WithName("GetMappingReport").RequireRole(Role.Viewer);
        return api;
    }

    private static async Task<IResult> ListAsync(
        Guid projectId, string? status, string? stage, string? search, string? readiness, string? sort, int? page, int? pageSize, string? after,
        MappingList list, CancellationToken ct)
    {
        var (number, size) = Paging.Clamp(page, pageSize);
        var filter = new MappingFilter { Status = status, Stage = stage, Search = search, Readiness = readiness };
        var outcome = await list.PageAsync(projectId, new MappingListRequest(filter, sort, (number - 1) * size, size, after), ct);
        return outcome.ToResult(p => Results.Ok(new MappingPage(
            p.Rows.Select(MappingView.From).ToList(), p.Total.Count, p.Total.IsEstimate, number, size, p.Next)));
    }

    private static async Task<IResult> CreateAsync(Guid projectId, MappingInput input, MappingCommands mappings, CancellationToken ct) =>
        (await mappings.CreateAsync(projectId, input, ct)).ToResult(m => Results.Created($"/api/v1/mappings/{m.Id}", m));

    private static async Task<IResult> UpdateAsync(Guid id, MappingInput input, MappingCommands mappings, CancellationToken ct) =>
        (await mappings.UpdateAsync(id, input, ct)).ToResult(m => Results.Ok(m));

    private static async Task<IResult> DeleteAsync(Guid id, MappingCommands mappings, CancellationToken ct) =>
        (await mappings.DeleteAsync(id, ct)).ToResult(_ => Results.NoContent());

    private static async Task<IResult> MoveAsync(Guid id, MoveMappingInput input, MappingCommands mappings, CancellationToken ct) =>
        (await mappings.MoveAsync(id, input.ProjectId, ct)).ToResult(m => Results.Ok(m));

    private static async Task<IResult> ImportAsync(Guid projectId, HttpRequest request, MappingTransfer transfer, CancellationToken ct)
    {
        var limit = transfer.MaxBytes;
        if (request.ContentLength > limit)
        {
            return Problems.From(MappingTransfer.TooLarge(limit));
        }
        // Kestrel's own limit (30,000,000 bytes) would cut the body first and answer 500; this endpoint's is ours.
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = limit + 1;
        }
        try
        {
            return (await transfer.ImportAsync(projectId, request.Body, ct)).ToResult(result => Results.Ok(result));
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // A chunked body has no length to check first: Kestrel stops it at the limit set above.
            return Problems.From(MappingTransfer.TooLarge(limit));
        }
    }

    private static async Task<IResult> ExportAsync(
        Guid projectId, string? status, string? stage, string? search, MappingTransfer transfer, CancellationToken ct) =>
        (await transfer.ExportAsync(projectId, new MappingFilter { Status = status, Stage = stage, Search = search }, ct)).ToResult(Download);

    /// <summary>
    /// The export as an attachment. A file result writes Content-Disposition per RFC 6266: an ASCII
    /// <c>filename</c> and the project's own letters in <c>filename*</c> (a raw non-ASCII header value fails the answer).
    /// </summary>
    public static IResult Download(MappingExport export) =>
        Results.File(Encoding.UTF8.GetBytes(export.Csv), "text/csv; charset=utf-8", export.FileName);

    private static async Task<IResult> ReportAsync(Guid id, RehomeDbContext db, CancellationToken ct) =>
        await MappingReports.LoadAsync(db, id, ct) is { } report ? Results.Ok(report) : Problems.NotFound($"Mapping {id}");
}
