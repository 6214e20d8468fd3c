using Microsoft.EntityFrameworkCore;
using Rehome.Core.Mappings;
using Rehome.Core.Runs;
using Rehome.Core.Validation;

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

    public static IQueryable<Mapping> Apply(IQueryable<Mapping> query, MappingFilter filter)
    {
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
            var pattern = "%" + EscapeLike(filter.Search.Trim().ToUpperInvariant()) + "%";
            query = query.Where(m =>
                EF.Functions.Like(m.SourceDeviceKey, pattern, "\\") ||
                EF.Functions.Like(m.DestinationName.ToUpper(), pattern, "\\") ||
                (m.PrimaryUser != null && EF.Functions.Like(m.PrimaryUser.ToUpper(), pattern, "\\")) ||
                (m.DestinationUser != null && EF.Functions.Like(m.DestinationUser.ToUpper(), pattern, "\\")));
        }
        return query;
    }

    public static IQueryable<Mapping> Sort(IQueryable<Mapping> query, string? sort)
    {
        var descending = sort?.StartsWith('-') == true;
        var key = sort?.TrimStart('-').ToUpperInvariant() ?? "SOURCEDEVICE";
        // Every order ends on the unique device key so that pages never overlap or skip rows.
        return (key, descending) switch
        {
            ("DESTINATIONNAME", false) => query.OrderBy(m => m.DestinationName).ThenBy(m => m.SourceDeviceKey),
            ("DESTINATIONNAME", true) => query.OrderByDescending(m => m.DestinationName).ThenBy(m => m.SourceDeviceKey),
            ("STATUS", false) => query.OrderBy(m => m.Status).ThenBy(m => m.SourceDeviceKey),
            ("STATUS", true) => query.OrderByDescending(m => m.Status).ThenBy(m => m.SourceDeviceKey),
            ("STAGE", false) => query.OrderBy(m => m.Stage).ThenBy(m => m.SourceDeviceKey),
            ("STAGE", true) => query.OrderByDescending(m => m.Stage).ThenBy(m => m.SourceDeviceKey),
            ("UPDATEDAT", false) => query.OrderBy(m => m.UpdatedAt).ThenBy(m => m.SourceDeviceKey),
            ("UPDATEDAT", true) => query.OrderByDescending(m => m.UpdatedAt).ThenBy(m => m.SourceDeviceKey),
            (_, true) => query.OrderByDescending(m => m.SourceDeviceKey),
            _ => query.OrderBy(m => m.SourceDeviceKey),
        };
    }

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
