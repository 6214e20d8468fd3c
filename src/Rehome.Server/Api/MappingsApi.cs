using System.Text;
using Microsoft.EntityFrameworkCore;
using Rehome.Core.Cleanup;
using Rehome.Core.Mappings;
using Rehome.Core.Runs;
using Rehome.Server.Administration;
using Rehome.Server.Audit;
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

/// <summary>/api/v1/projects/{id}/mappings and /api/v1/mappings/{id}.</summary>
public static class MappingsApi
{
    public static RouteGroupBuilder MapMappingsApi(this RouteGroupBuilder api)
    {
        var inProject = api.MapGroup("/projects/{projectId:guid}/mappings").WithTags("Mappings");
        inProject.MapGet("/", ListAsync).WithName("ListMappings").RequireRole(Role.Viewer)
            .WithSummary("A page of the project's mappings, filtered by status, stage and text, sorted.");
        inProject.MapPost("/", CreateAsync).WithName("CreateMapping").RequireRole(Role.Operator);
        inProject.MapPost("/import", ImportAsync).WithName("ImportMappings").RequireRole(Role.Operator)
            .Accepts<string>("text/csv")
            .WithSummary("Imports a CSV of mappings, all or nothing; rows for devices already in the project update them.");
        inProject.MapGet("/export", ExportAsync).WithName("ExportMappings").RequireRole(Role.Viewer).Produces<string>(200, "text/csv");

        var single = api.MapGroup("/mappings").WithTags("Mappings");
        single.MapGet("/{id:guid}", async (Guid id, RehomeDbContext db, CancellationToken ct) =>
            await db.Mappings.AsNoTracking().FirstOrDefaultAsync(m => m.Id == id, ct) is { } m
                ? Results.Ok(MappingView.From(m))
                : Problems.NotFound($"Mapping {id}")).WithName("GetMapping").RequireRole(Role.Viewer);
        single.MapPut("/{id:guid}", UpdateAsync).WithName("UpdateMapping").RequireRole(Role.Operator);
        single.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteMapping").RequireRole(Role.Operator);
        single.MapPost("/{id:guid}/move", MoveAsync).WithName("MoveMapping").RequireRole(Role.Operator)
            .WithSummary("Moves a mapping to another project: the one way a device changes project.");
        single.MapGet("/{id:guid}/report", ReportAsync).WithName("GetMappingReport").RequireRole(Role.Viewer);
        return api;
    }

    private static async Task<IResult> ListAsync(
        Guid projectId, string? status, string? stage, string? search, string? sort, int? page, int? pageSize,
        RehomeDbContext db, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct))
        {
            return Problems.NotFound($"Project {projectId}");
        }
        var filter = new MappingFilter { Status = status, Stage = stage, Search = search };
        if (MappingQuery.Check(filter, sort) is { } problem)
        {
            return Problems.Validation([problem]);
        }
        var (number, size) = Paging.Clamp(page, pageSize);
        var query = MappingQuery.Apply(db.Mappings.AsNoTracking().Where(m => m.ProjectId == projectId), filter);
        var total = await query.CountAsync(ct);
        var items = await MappingQuery.Sort(query, sort).Skip((number - 1) * size).Take(size).ToListAsync(ct);
        return Results.Ok(new Page<MappingView>(items.Select(MappingView.From).ToList(), total, number, size));
    }

    private static async Task<IResult> CreateAsync(
        Guid projectId, MappingInput input, RehomeDbContext db, AuditTrail audit, TimeProvider time, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct))
        {
            return Problems.NotFound($"Project {projectId}");
        }
        if (await ArchivedProjects.RefuseAsync(db, projectId, ArchivedAction.EditMapping, ct) is { } archived)
        {
            return Problems.From(archived);
        }
        input = MappingRules.Normalise(input);
        var violations = MappingRules.Validate(input);
        if (violations.Count > 0)
        {
            return Problems.Validation(violations);
        }
        var key = Mapping.KeyOf(input.SourceDevice!);
        if (await DeviceConflictAsync(db, key, null, ct) is { } conflict)
        {
            return conflict;
        }
        var mapping = Mapping.Create(projectId, input, time.GetUtcNow());
        db.Mappings.Add(mapping);
        audit.Record("mapping.create", $"mapping:{mapping.Id}", mapping.SourceDevice);
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/mappings/{mapping.Id}", MappingView.From(mapping));
    }

    private static async Task<IResult> UpdateAsync(
        Guid id, MappingInput input, RehomeDbContext db, AuditTrail audit, TimeProvider time, CancellationToken ct)
    {
        var mapping = await db.Mappings.FirstOrDefaultAsync(m => m.Id == id, ct);
        if (mapping is null)
        {
            return Problems.NotFound($"Mapping {id}");
        }
        if (await ArchivedProjects.RefuseAsync(db, mapping.ProjectId, ArchivedAction.EditMapping, ct) is { } archived)
        {
            return Problems.From(archived);
        }
        input = MappingRules.Normalise(input);
        var violations = MappingRules.Validate(input);
        if (violations.Count > 0)
        {
            return Problems.Validation(violations);
        }
        var key = Mapping.KeyOf(input.SourceDevice!);
        if (key != mapping.SourceDeviceKey)
        {
            if (await HasActiveJobsAsync(db, id, ct))
            {
                return Problems.Conflict("MappingHasActiveJobs", $"{mapping.SourceDevice} has jobs waiting or in progress; its device name cannot change now.");
            }
            if (await DeviceConflictAsync(db, key, id, ct) is { } conflict)
            {
                return conflict;
            }
            // Another device: what the old one did says nothing about it.
            mapping.RejoinedAt = null;
        }
        mapping.SourceDevice = input.SourceDevice!;
        mapping.SourceDeviceKey = key;
        mapping.DestinationName = input.DestinationName!;
        mapping.DestinationOu = input.DestinationOu;
        mapping.PrimaryUser = input.PrimaryUser;
        mapping.DestinationUser = input.DestinationUser;
        mapping.UpdatedAt = time.GetUtcNow();
        audit.Record("mapping.update", $"mapping:{id}", mapping.SourceDevice);
        await db.SaveChangesAsync(ct);
        return Results.Ok(MappingView.From(mapping));
    }

    private static async Task<IResult> DeleteAsync(Guid id, RehomeDbContext db, AuditTrail audit, CancellationToken ct)
    {
        var mapping = await db.Mappings.FirstOrDefaultAsync(m => m.Id == id, ct);
        if (mapping is null)
        {
            return Problems.NotFound($"Mapping {id}");
        }
        if (await ArchivedProjects.RefuseAsync(db, mapping.ProjectId, ArchivedAction.EditMapping, ct) is { } archived)
        {
            return Problems.From(archived);
        }
        if (await HasActiveJobsAsync(db, id, ct))
        {
            return Problems.Conflict("MappingHasActiveJobs", $"{mapping.SourceDevice} has jobs waiting or in progress; stop them before deleting the mapping.");
        }
        // Jobs carry no foreign key (see the store): the mapping's history goes with it, in one transaction.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await JobRecords.DeleteAsync(db, db.Jobs.Where(j => j.MappingId == id), ct);
        db.Mappings.Remove(mapping);
        audit.Record("mapping.delete", $"mapping:{id}", mapping.SourceDevice);
        await db.SaveChangesAsync(ct);
        await transaction.CommitRegardlessAsync();
        return Results.NoContent();
    }

    private static async Task<IResult> MoveAsync(
        Guid id, MoveMappingInput input, RehomeDbContext db, AuditTrail audit, TimeProvider time, CancellationToken ct)
    {
        var mapping = await db.Mappings.FirstOrDefaultAsync(m => m.Id == id, ct);
        if (mapping is null)
        {
            return Problems.NotFound($"Mapping {id}");
        }
        var target = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == input.ProjectId, ct);
        if (target is null)
        {
            return Problems.Validation("projectId", "NotFound", $"The project {input.ProjectId} does not exist.");
        }
        // Out of an archived project or into one: both change an archived project's mappings.
        if ((await ArchivedProjects.RefuseAsync(db, mapping.ProjectId, ArchivedAction.EditMapping, ct)
            ?? await ArchivedProjects.RefuseAsync(db, target.Id, ArchivedAction.EditMapping, ct)) is { } archived)
        {
            return Problems.From(archived);
        }
        if (await HasActiveJobsAsync(db, id, ct))
        {
            return Problems.Conflict("MappingHasActiveJobs", $"{mapping.SourceDevice} has jobs waiting or in progress; it can move when they are over.");
        }
        var from = mapping.ProjectId;
        mapping.ProjectId = target.Id;
        mapping.UpdatedAt = time.GetUtcNow();
        // The new project may have another destination: the device has not rejoined it.
        mapping.RejoinedAt = null;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // The jobs move with the mapping so its report stays whole.
        await db.Jobs.Where(j => j.MappingId == id).ExecuteUpdateAsync(s => s.SetProperty(j => j.ProjectId, target.Id), ct);
        audit.Record("mapping.move", $"mapping:{id}", $"{mapping.SourceDevice}: project {from} → '{target.Name}'");
        await db.SaveChangesAsync(ct);
        await transaction.CommitRegardlessAsync();
        return Results.Ok(MappingView.From(mapping));
    }

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

    private static Task<bool> HasActiveJobsAsync(RehomeDbContext db, Guid mappingId, CancellationToken ct) =>
        db.Jobs.AnyAsync(j => j.MappingId == mappingId && JobStatuses.Active.Contains(j.Status), ct);

    private static async Task<IResult?> DeviceConflictAsync(RehomeDbContext db, string key, Guid? except, CancellationToken ct)
    {
        var other = await db.Mappings.AsNoTracking()
            .Where(m => m.SourceDeviceKey == key && m.Id != except)
            .Join(db.Projects, m => m.ProjectId, p => p.Id, (m, p) => new { m.SourceDevice, Project = p.Name })
            .FirstOrDefaultAsync(ct);
        return other is null
            ? null
            : Problems.Conflict("DeviceInAnotherMapping",
                $"The device '{other.SourceDevice}' already has a mapping in the project '{other.Project}'; a device can be in one project only (move it explicitly).");
    }

}
