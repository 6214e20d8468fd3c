using Microsoft.EntityFrameworkCore;
using Rehome.Core.Mappings;
using Rehome.Core.Runs;
using Rehome.Core.Validation;
using Rehome.Server.Store;

namespace Rehome.Server.Mappings;

/// <summary>
/// The mappings grid's filter: the same filter selects the rows of a page, the mappings of "run everything
/// matching this filter", and the rows of an export, so what the administrator sees is what runs.
/// </summary>
public sealed record MappingFilter
{
    /// <summary>A status name (e.g. <c>Failed</c>), or <c>NotStarted</c> for mappings never run.</summary>
    public string? Status { get; init; }

    /// <summary>A job kind name: the stage the mapping is at.</summary>
    public string? Stage { get; init; }

    /// <summary>Text found in the source device, destination name or users.</summary>
    public string? Search { get; init; }

    /// <summary>The last readiness check's outcome (<c>Ready</c>, <c>Warnings</c>, <c>NotReady</c>), or <c>NotChecked</c>.</summary>
    public string? Readiness { get; init; }
}

public static class MappingQuery
{
    public const string NotStarted = "NotStarted";

    /// <summary>The readiness filter's word for mappings no readiness check has looked at.</summary>
    public const string NotChecked = "NotChecked";

    public static readonly string[] SortKeys = ["sourceDevice", "destinationName", "status", "stage", "updatedAt"];

    private static readonly BigEndianGuidConverter StoredGuid = new();

    /// <summary>On SQLite, more rows found than this make a search broad: read in the sort's order, not through the index.</summary>
    public const int BroadSearch = 2_000;

    /// <summary>
    /// The longest search: far more than any name it can match, and far below SQLite's limit on a LIKE pattern
    /// (50,000 bytes, "pattern too complex" beyond).
    /// </summary>
    public const int SearchMaxLength = 200;

    /// <summary>
    /// Checks a filter's words before it is used; returns what is wrong, with the field named under
    /// <paramref name="prefix"/> (<c>filter.</c> in a run's body, nothing in a query string), or null.
    /// </summary>
    public static RuleViolation? Check(MappingFilter filter, string? sort, string prefix = "")
    {
        if (filter.Status is { Length: > 0 } status && status != NotStarted && !IsName<JobStatus>(status))
        {
            return new(prefix + "status", "Filter", $"That is not a status; use one of {string.Join(", ", Enum.GetNames<JobStatus>().Append(NotStarted))}.");
        }
        if (filter.Stage is { Length: > 0 } stage && !IsName<JobKind>(stage))
        {
            return new(prefix + "stage", "Filter", $"That is not a stage; use one of {string.Join(", ", Enum.GetNames<JobKind>())}.");
        }
        if (filter.Readiness is { Length: > 0 } readiness && readiness != NotChecked && !IsName<ReadinessState>(readiness))
        {
            return new(prefix + "readiness", "Filter", $"That is not a readiness outcome; use one of {string.Join(", ", Enum.GetNames<ReadinessState>().Append(NotChecked))}.");
        }
        var search = new RuleViolations();
        search.Text(prefix + "search", filter.Search, SearchMaxLength, "The search");
        if (search.Any)
        {
            return search.Items[0];
        }
        if (sort is { Length: > 0 } && !SortKeys.Contains(sort.TrimStart('-'), StringComparer.OrdinalIgnoreCase))
        {
            return new("sort", "Filter", $"That is not a sort key; use one of {string.Join(", ", SortKeys)} (prefix '-' for descending).");
        }
        return null;
    }

    /// <summary>A name of <typeparamref name="TEnum"/>, in any case (not a number, nor a comma list as Enum.TryParse takes).</summary>
    private static bool IsName<TEnum>(string text) where TEnum : struct, Enum =>
        Enum.GetNames<TEnum>().Contains(text.Trim(), StringComparer.OrdinalIgnoreCase);

    /// <summary>The mappings of <paramref name="query"/> that match <paramref name="filter"/>; <paramref name="db"/> answers the text search.</summary>
    public static IQueryable<Mapping> Apply(RehomeDbContext db, IQueryable<Mapping> query, MappingFilter filter)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (filter.Status is { Length: > 0 } statusText)
        {
            if (string.Equals(statusText, NotStarted, StringComparison.OrdinalIgnoreCase))
            {
                query = query.Where(m => m.Status == null);
            }
            else
            {
                var status = Enum.Parse<JobStatus>(statusText, true);
                query = query.Where(m => m.Status == status);
            }
        }
        if (filter.Stage is { Length: > 0 } stageText)
        {
            var stage = Enum.Parse<JobKind>(stageText, true);
            query = query.Where(m => m.Stage == stage);
        }
        if (filter.Readiness is { Length: > 0 } readinessText)
        {
            if (string.Equals(readinessText, NotChecked, StringComparison.OrdinalIgnoreCase))
            {
                query = query.Where(m => m.Readiness == null);
            }
            else
            {
                var readiness = Enum.Parse<ReadinessState>(readinessText, true);
                query = query.Where(m => m.Readiness == readiness);
            }
        }
        if (!string.IsNullOrWhiteSpace(filter.Search))
        {
            query = Search(db, query, filter.Search.Trim());
        }
        return query;
    }

    /// <summary>Sorts by a checked sort key (<see cref="MappingOrder"/>), the device key ascending by default.</summary>
    public static IQueryable<Mapping> Sort(IQueryable<Mapping> query, string? sort) => MappingOrder.Of(sort).Sort(query);

    /// <summary>
    /// The mappings whose source device, destination name or users hold <paramref name="text"/>, in any case,
    /// found through the trigram index of <see cref="MappingSearchSchema"/> rather than by reading every row.
    /// </summary>
    private static IQueryable<Mapping> Search(RehomeDbContext db, IQueryable<Mapping> query, string text)
    {
        if (db.Provider == StoreProvider.PostgreSql)
        {
            // The document is upper-cased by the database; pg_trgm serves LIKE at any length (short ones scan its index).
            var pattern = "%" + EscapeLike(text.ToUpperInvariant()) + "%";
            var found = db.Database.SqlQueryRaw<Guid>(
                "SELECT mapping_id AS \"Value\" FROM mapping_search WHERE document LIKE {0} ESCAPE '\\'", pattern);
            return query.Where(m => found.Contains(m.Id));
        }
        var variants = CaseVariants(text);
        if (text.EnumerateRunes().Count() >= 3)
        {
            // One FTS5 phrase: with the trigram tokenizer, a case-insensitive substring; inside quotes only '"' is special.
            var phrase = "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
            // The ids found, up to BroadSearch + 1, written into the query: a subquery left SQLite free to read the
            // whole project instead (it cannot know how few rows the index finds). Microsoft.Data.Sqlite runs every
            // command synchronously, so reading them here costs no thread.
            var ids = db.Database.SqlQueryRaw<byte[]>(
                    "SELECT id AS \"Value\" FROM mappings WHERE rowid IN (SELECT rowid FROM mapping_search WHERE mapping_search MATCH {0} LIMIT {1})",
                    phrase, BroadSearch + 1)
                .AsEnumerable().Select(id => (Guid)StoredGuid.ConvertFromProvider(id)!).ToList();
            // A search found in many rows is answered faster by reading the project in the sort's order until a page
            // is full than by sorting every row found.
            if (ids.Count <= BroadSearch)
            {
                return query.Where(m => EF.Constant(ids).Contains(m.Id));
            }
            if (variants.Count > 64)
            {
                var found = db.Database.SqlQueryRaw<Guid>(
                    "SELECT id AS \"Value\" FROM mappings WHERE rowid IN (SELECT rowid FROM mapping_search WHERE mapping_search MATCH {0})", phrase);
                return query.Where(m => found.Contains(m.Id));
            }
        }
        // Fewer than three characters make no trigram, and a broad search reads rows in order: LIKE, with every case
        // of each character spelled out, as SQLite's LIKE folds ASCII letters only.
        var patterns = variants.Select(v => "%" + EscapeLike(v) + "%").ToList();
        return query.Where(m => patterns.Any(p =>
            EF.Functions.Like(m.SourceDeviceKey, p, "\\") ||
            EF.Functions.Like(m.DestinationName, p, "\\") ||
            (m.PrimaryUser != null && EF.Functions.Like(m.PrimaryUser, p, "\\")) ||
            (m.DestinationUser != null && EF.Functions.Like(m.DestinationUser, p, "\\"))));
    }

    /// <summary>Every spelling of <paramref name="text"/> with each non-ASCII character in its own, upper or lower case (more than 64: some of them).</summary>
    private static List<string> CaseVariants(string text)
    {
        List<string> variants = [""];
        foreach (var c in text)
        {
            char[] forms = char.IsAscii(c) ? [c] : [.. new[] { c, char.ToUpperInvariant(c), char.ToLowerInvariant(c) }.Distinct()];
            variants = variants.SelectMany(v => forms.Select(f => v + f)).ToList();
            if (variants.Count > 64)
            {
                break; // too many to spell out: the caller searches through the index instead
            }
        }
        return variants;
    }

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
