using Microsoft.EntityFrameworkCore;
using Rehome.Core.Validation;
using Rehome.Server.Audit;
using Rehome.Server.Store;

namespace Rehome.Server.Reports;

/// <summary>The audit log's filter for an export: who, which actions, and a time range (from inclusive, to exclusive).</summary>
public sealed record AuditExportFilter(string? Actor, string? Action, DateTimeOffset? From, DateTimeOffset? To)
{
    /// <summary>An empty range can only be a mistake: it is refused naming <c>to</c>.</summary>
    public RuleViolation? Check() => From is { } from && To is { } to && to <= from
        ? new RuleViolation("to", "TimeRange", $"'to' ({to:O}) must be after 'from' ({from:O}): the range is from (inclusive) to (exclusive).")
        : null;
}

/// <summary>
/// The audit log as CSV, oldest first, read in keyset batches (by id) and written batch by batch: an export of
/// millions of entries holds one batch in memory.
/// </summary>
public static class AuditExport
{
    public const int BatchSize = 1000;

    public static readonly string[] Columns = ["Id", "At", "Actor", "Action", "Target", "Details"];

    public static Task WriteAsync(Stream body, RehomeDbContext db, AuditExportFilter filter, CancellationToken ct) =>
        WriteAsync(body, AuditQuery.Filter(db.AuditLog.AsNoTracking(), filter.Actor, filter.Action, filter.From, filter.To), _ => true, ct);

    /// <summary>The entries of <paramref name="query"/> that <paramref name="keep"/> takes (a test the store cannot make), oldest first.</summary>
    public static async Task WriteAsync(Stream body, IQueryable<AuditEntry> query, Func<AuditEntry, bool> keep, CancellationToken ct)
    {
        await using var csv = new CsvRows(body, Columns);
        var after = long.MinValue;
        while (true)
        {
            var last = after;
            var batch = await query.Where(a => a.Id > last).OrderBy(a => a.Id).Take(BatchSize).ToListAsync(ct);
            foreach (var e in batch.Where(keep))
            {
                await csv.WriteAsync(CsvRows.Number(e.Id), CsvRows.Time(e.At), e.Actor, e.Action, e.Target, e.Details);
            }
            if (batch.Count < BatchSize)
            {
                return;
            }
            after = batch[^1].Id;
        }
    }
}
