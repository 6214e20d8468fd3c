using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rehome.Core.Mappings;
using Rehome.Core.Runs;
using Rehome.Server.Audit;
using Rehome.Server.Mappings;
using Rehome.Server.Store;

namespace Rehome.Server.Api;

public sealed record MoveMappingInput(Guid ProjectId);

public sealed record ImportResult(int Created, int Updated);

/// <summary>/api/v1/projects/{id}/mappings and /api/v1/mappings/{id}.</summary>
public static class MappingsApi
{
    public static RouteGroupBuilder MapMappingsApi(this RouteGroupBuilder api)
    {
        var inProject = api.MapGroup("/projects/{projectId:guid}/mappings").WithTags("Mappings");
        inProject.MapGet("/", ListAsync).WithName("ListMappings")
            .WithSummary("A page of the project's mappings, filtered by status, stage and text, sorted.");
        inProject.MapPost("/", CreateAsync).WithName("CreateMapping");
        inProject.MapPost("/import", ImportAsync).WithName("ImportMappings")
            .Accepts<string>("text/csv")
            .WithSummary("Imports a CSV of mappings, all or nothing; rows for devices already in the project update them.");
        inProject.MapGet("/export", ExportAsync).WithName("ExportMappings").Produces<string>(200, "text/csv");

        var single = api.MapGroup("/mappings").WithTags("Mappings");
        single.MapGet("/{id:guid}", async (Guid id, RehomeDbContext db, CancellationToken ct) =>
            await db.Mappings.AsNoTracking().FirstOrDefaultAsync(m => m.Id == id, ct) is { } m
                ? Results.Ok(MappingView.From(m))
                : Problems.NotFound($"Mapping {id}")).WithName("GetMapping");
        single.MapPut("/{id:guid}", UpdateAsync).WithName("UpdateMapping");
        single.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteMapping");
        single.MapPost("/{id:guid}/move", MoveAsync).WithName("MoveMapping")
            .WithSummary("Moves a mapping to another project: the one way a device changes project.");
        single.MapGet("/{id:guid}/report", ReportAsync).WithName("GetMappingReport");
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
            return Problems.Validation("filter", "Filter", problem);
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
        await transaction.CommitAsync(ct);
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
        await transaction.CommitAsync(ct);
        return Results.Ok(MappingView.From(mapping));
    }

    private static async Task<IResult> ImportAsync(
        Guid projectId, HttpRequest request, RehomeDbContext db, MappingImporter importer, IOptions<ImportOptions> options, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct))
        {
            return Problems.NotFound($"Project {projectId}");
        }
        var limit = options.Value.MaxBytes;
        if (request.ContentLength > limit)
        {
            return TooLarge(limit);
        }
        // Kestrel's own limit (30,000,000 bytes) would cut the body first and answer 500; this endpoint's is ours.
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = limit + 1;
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return TooLarge(limit);
            }
            buffer.Write(chunk, 0, read);
        }
        buffer.Position = 0;
        using var text = new StreamReader(buffer, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var (rows, errors) = MappingCsv.Parse(text, options.Value.MaxRows);
        if (errors.Count == 0 && rows.Count == 0)
        {
            errors.Add(new ImportError(2, null, "The file has a header but no mappings."));
        }
        var outcome = errors.Count > 0 ? new ImportOutcome(0, 0, errors) : await importer.ImportAsync(projectId, rows, ct);
        if (!outcome.Succeeded)
        {
            return Problems.Rule(StatusCodes.Status400BadRequest, "The import has bad rows; nothing was imported", "ImportRejected",
                $"{outcome.Errors.Count} problem(s) in the file; nothing was imported. The first: row {outcome.Errors[0].Row}: {outcome.Errors[0].Reason}",
                new Dictionary<string, object?> { ["errors"] = outcome.Errors });
        }
        return Results.Ok(new ImportResult(outcome.Created, outcome.Updated));
    }

    private static IResult TooLarge(long limit) => Problems.Rule(StatusCodes.Status413PayloadTooLarge, "The file is too large", "FileTooLarge",
        $"An import is at most {limit / (1024 * 1024)} MiB; split the file. Nothing was imported.");

    private static async Task<IResult> ExportAsync(
        Guid projectId, string? status, string? stage, string? search, RehomeDbContext db, HttpResponse response, CancellationToken ct)
    {
        var project = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == projectId, ct);
        if (project is null)
        {
            return Problems.NotFound($"Project {projectId}");
        }
        var filter = new MappingFilter { Status = status, Stage = stage, Search = search };
        if (MappingQuery.Check(filter, null) is { } problem)
        {
            return Problems.Validation("filter", "Filter", problem);
        }
        var mappings = await MappingQuery.Sort(MappingQuery.Apply(db.Mappings.AsNoTracking().Where(m => m.ProjectId == projectId), filter), null)
            .ToListAsync(ct);
        using var text = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        MappingCsv.Write(text, mappings);
        response.Headers.ContentDisposition = $"attachment; filename=\"{SafeFileName(project.Name)}-mappings.csv\"";
        return Results.Text(text.ToString(), "text/csv; charset=utf-8", Encoding.UTF8);
    }

    private static async Task<IResult> ReportAsync(Guid id, RehomeDbContext db, CancellationToken ct)
    {
        var mapping = await db.Mappings.AsNoTracking().FirstOrDefaultAsync(m => m.Id == id, ct);
        if (mapping is null)
        {
            return Problems.NotFound($"Mapping {id}");
        }
        var jobs = await db.Jobs.AsNoTracking().Where(j => j.MappingId == id).ToListAsync(ct);
        var runIds = jobs.Select(j => j.RunId).Distinct().ToList();
        var runs = await db.Runs.AsNoTracking().Where(r => runIds.Contains(r.Id)).ToListAsync(ct);
        var report = runs.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id)
            .Select(r => new MappingReportRun(r.Id, r.RequestedBy, r.CreatedAt, r.StartAt,
                jobs.Where(j => j.RunId == r.Id).OrderBy(j => j.Kind).Select(JobView.From).ToList()))
            .ToList();
        var jobIds = jobs.Select(j => j.Id).ToList();
        var log = await db.JobLogLines.AsNoTracking().Where(l => jobIds.Contains(l.JobId))
            .OrderByDescending(l => l.Id).Take(MappingReport.MaxLines)
            .Select(l => new LogLineView(l.JobId, l.At, l.Level, l.Text)).ToListAsync(ct);
        log.Reverse();
        var items = await db.JobItems.AsNoTracking().Where(i => jobIds.Contains(i.JobId))
            .OrderByDescending(i => i.Id).Take(MappingReport.MaxLines)
            .Select(i => new ItemView(i.JobId, i.Item, i.Outcome, i.Error, i.At)).ToListAsync(ct);
        return Results.Ok(new MappingReport(MappingView.From(mapping), report, log, items));
    }

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

    private static string SafeFileName(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '-'));
}
