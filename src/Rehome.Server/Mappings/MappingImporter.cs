using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Rehome.Core.Cleanup;
using Rehome.Core.Mappings;
using Rehome.Server.Administration;
using Rehome.Server.Audit;
using Rehome.Server.Store;

namespace Rehome.Server.Mappings;

/// <summary>Limits of one import, from <c>Rehome:Import</c>.</summary>
public sealed class ImportOptions
{
    public const string Section = "Rehome:Import";

    /// <summary>Largest import file.</summary>
    [System.ComponentModel.DataAnnotations.Range(1024L, 1L << 30)]
    public long MaxBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>Most rows in one import.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 10_000_000)]
    public int MaxRows { get; set; } = 200_000;
}

/// <summary>The outcome of an import: either counts, or every error (and then nothing was written).</summary>
/// <summary>An import's result: what it created and updated, or every bad row, or the archived project's refusal.</summary>
public sealed record ImportOutcome(int Created, int Updated, IReadOnlyList<ImportError> Errors, ArchiveRefusal? Refused = null)
{
    public bool Succeeded => Errors.Count == 0 && Refused is null;
}

/// <summary>
/// Imports mappings all or nothing: every row is checked (its own rules, duplicates in the file, devices in
/// other projects) before anything is written; rows for devices already in this project update them.
/// </summary>
public sealed class MappingImporter(RehomeDbContext db, StoreCommands store, SqlDialect dialect, AuditTrail audit, TimeProvider time, ILogger<MappingImporter> logger)
{
    public async Task<ImportOutcome> ImportAsync(Guid projectId, IReadOnlyList<ImportRow> rows, CancellationToken ct)
    {
        var errors = new List<ImportError>();
        var valid = new List<(int Row, MappingInput Input, string Key)>(rows.Count);
        var firstRowOfKey = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (row, raw) in rows)
        {
            var input = MappingRules.Normalise(raw);
            var violations = MappingRules.Validate(input);
            foreach (var v in violations)
            {
                errors.Add(new ImportError(row, ColumnOf(v.Field), v.Message));
            }
            if (violations.Count > 0)
            {
                continue;
            }
            var key = Mapping.KeyOf(input.SourceDevice!);
            if (firstRowOfKey.TryGetValue(key, out var first))
            {
                errors.Add(new ImportError(row, MappingCsv.SourceDevice, $"The device '{input.SourceDevice}' is already on row {first} of this file."));
                continue;
            }
            firstRowOfKey[key] = row;
            valid.Add((row, input, key));
        }

        var existing = await FindExistingAsync(valid.Select(v => v.Key).ToList(), ct);
        foreach (var (row, input, key) in valid)
        {
            if (existing.TryGetValue(key, out var found) && found.ProjectId != projectId)
            {
                errors.Add(new ImportError(row, MappingCsv.SourceDevice,
                    $"The device '{input.SourceDevice}' is already in the project '{found.ProjectName}'; a device can be in one project only (move it explicitly)."));
            }
        }
        if (errors.Count > 0)
        {
            return new ImportOutcome(0, 0, errors.OrderBy(e => e.Row).ToList());
        }

        var now = time.GetUtcNow();
        var created = new List<Mapping>();
        var updatedIds = new Dictionary<Guid, MappingInput>();
        foreach (var (_, input, key) in valid)
        {
            if (existing.TryGetValue(key, out var found))
            {
                updatedIds[found.Id] = input;
                continue;
            }
            created.Add(Mapping.Create(projectId, input, now));
        }

        // Under the project's lock, asked again: an archive made since the caller's check wins, and nothing is imported.
        await using var transaction = await ProjectLock.TakeAsync(db, store, projectId, ct);
        if (await ArchivedProjects.CheckAsync(db, projectId, ArchivedAction.Import, ct) is { } archived)
        {
            return new ImportOutcome(0, 0, [], archived);
        }
        await BulkWriter.InsertMappingsAsync(db.Database.GetDbConnection(), transaction.GetDbTransaction(), dialect, created, ct);
        foreach (var chunk in updatedIds.Keys.Chunk(500))
        {
            var mappings = await db.Mappings.Where(m => chunk.Contains(m.Id)).ToListAsync(ct);
            foreach (var mapping in mappings)
            {
                var input = updatedIds[mapping.Id];
                mapping.DestinationName = input.DestinationName!;
                mapping.DestinationOu = input.DestinationOu;
                mapping.PrimaryUser = input.PrimaryUser;
                mapping.DestinationUser = input.DestinationUser;
                mapping.UpdatedAt = now;
            }
        }
        audit.Record("mappings.import", $"project:{projectId}", $"{created.Count} created, {updatedIds.Count} updated");
        await db.SaveChangesAsync(ct);
        await transaction.CommitRegardlessAsync();
        if (dialect.IsPostgres && created.Count >= AnalyzeAfter)
        {
            await AnalyzeAsync();
        }
        return new ImportOutcome(created.Count, updatedIds.Count, []);
    }

    /// <summary>
    /// Renews PostgreSQL's statistics of the mappings and their search after a large import. The list's sorted and
    /// filtered pages are planned from them, and autovacuum renews them only a while after the import: until then a
    /// sorted page of 100,000 new mappings took 100 ms instead of 5 (bench/Rehome.Bench). ANALYZE reads a sample of fixed
    /// size, whatever the table's. The import is committed by then: a failure here is a warning, never the import's
    /// answer, and the client going away does not stop it. (A role that does not own the tables gets a warning from
    /// PostgreSQL and nothing is renewed; the role that migrated the store owns them.)
    /// </summary>
    private Task AnalyzeAsync() =>
        StoreStatistics.AnalyzeAsync(db, "mappings, mapping_search", "the mappings after a large import", logger, CancellationToken.None);

    /// <summary>How many new mappings make an import large enough to renew PostgreSQL's statistics of the table at once.</summary>
    internal const int AnalyzeAfter = 5_000;

    private sealed record ExistingDevice(Guid Id, Guid ProjectId, string ProjectName);

    private async Task<Dictionary<string, ExistingDevice>> FindExistingAsync(List<string> keys, CancellationToken ct)
    {
        var found = new Dictionary<string, ExistingDevice>(StringComparer.Ordinal);
        foreach (var chunk in keys.Chunk(500))
        {
            var rows = await db.StoredMappings.AsNoTracking()
                .Where(m => chunk.Contains(m.SourceDeviceKey))
                .Join(db.Projects, m => m.ProjectId, p => p.Id, (m, p) => new { m.SourceDeviceKey, m.Id, m.ProjectId, ProjectName = p.Name })
                .ToListAsync(ct);
            foreach (var row in rows)
            {
                found[row.SourceDeviceKey] = new ExistingDevice(row.Id, row.ProjectId, row.ProjectName);
            }
        }
        return found;
    }

    private static string ColumnOf(string field) => field switch
    {
        "sourceDevice" => MappingCsv.SourceDevice,
        "destinationName" => MappingCsv.DestinationName,
        "destinationOu" => MappingCsv.DestinationOu,
        "primaryUser" => MappingCsv.PrimaryUser,
        "destinationUser" => MappingCsv.DestinationUser,
        _ => field,
    };
}
