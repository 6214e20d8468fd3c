using System.Buffers.Text;
using System.Globalization;
using System.Linq.Expressions;
using System.Text.Encodings.Web;
using System.Text.Json;
using Rehome.Core.Mappings;
using Rehome.Core.Runs;
using Rehome.Core.Validation;

namespace Rehome.Server.Mappings;

/// <summary>
/// The orders of the mapping list, and the cursors that continue them. Every order ends on the unique device key,
/// in the order's own direction, so that pages never overlap or skip rows and one index (project, column, device
/// key) serves a sort both ways. A cursor (<c>after=</c>) names the sort and the last row's sort keys; the next page
/// starts after them, a range of that index however deep, where an offset would count every row before it.
/// </summary>
public sealed class MappingOrder
{
    private MappingOrder(string key, bool descending)
    {
        Key = key;
        Descending = descending;
    }

    /// <summary>The sort key, as <see cref="MappingQuery.SortKeys"/> names it.</summary>
    public string Key { get; }

    public bool Descending { get; }

    /// <summary>The sort as a query string writes it (<c>-destinationName</c>).</summary>
    public string Name => (Descending ? "-" : "") + Key;

    /// <summary>The order of a checked sort (<see cref="MappingQuery.Check"/>); the device key's, ascending, by default.</summary>
    public static MappingOrder Of(string? sort)
    {
        var name = sort?.Trim().TrimStart('-');
        var key = MappingQuery.SortKeys.FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase)) ?? MappingQuery.SortKeys[0];
        return new(key, sort?.TrimStart().StartsWith('-') == true);
    }

    public IQueryable<Mapping> Sort(IQueryable<Mapping> query) => Key switch
    {
        "destinationName" => Then(By(query, m => m.DestinationName)),
        "status" => Then(By(query, m => (int?)m.Status)),
        "stage" => Then(By(query, m => (int?)m.Stage)),
        "updatedAt" => Then(By(query, m => m.UpdatedAt)),
        _ => By(query, m => m.SourceDeviceKey),
    };

    private IOrderedQueryable<Mapping> By<T>(IQueryable<Mapping> query, Expression<Func<Mapping, T>> column) =>
        Descending ? query.OrderByDescending(column) : query.OrderBy(column);

    private IOrderedQueryable<Mapping> Then(IOrderedQueryable<Mapping> query) =>
        Descending ? query.ThenByDescending(m => m.SourceDeviceKey) : query.ThenBy(m => m.SourceDeviceKey);

    /// <summary>The cursor that continues this order after <paramref name="last"/>.</summary>
    public string CursorAfter(Mapping last)
    {
        ArgumentNullException.ThrowIfNull(last);
        string? value = Key switch
        {
            "destinationName" => last.DestinationName,
            "status" => last.Status is { } status ? ((int)status).ToString(CultureInfo.InvariantCulture) : null,
            "stage" => last.Stage is { } stage ? ((int)stage).ToString(CultureInfo.InvariantCulture) : null,
            "updatedAt" => last.UpdatedAt.UtcTicks.ToString(CultureInfo.InvariantCulture),
            _ => null,
        };
        var json = JsonSerializer.SerializeToUtf8Bytes(new[] { Name, value, last.SourceDeviceKey }, CursorJson);
        return Base64Url.EncodeToString(json);
    }

    /// <summary>
    /// The position a cursor names, checked as the untrusted text it is; null when it is not a cursor of this order
    /// (another sort's, or damaged): answer <see cref="NotACursor"/>.
    /// </summary>
    public Position? Read(string cursor)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        string?[]? parts;
        try
        {
            parts = cursor.Length <= MaxCursorLength ? JsonSerializer.Deserialize<string?[]>(Base64Url.DecodeFromChars(cursor)) : null;
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            parts = null;
        }
        if (parts is not [{ } name, var value, { } key] || name != Name || !IsText(key))
        {
            return null;
        }
        return Key switch
        {
            "destinationName" => value is not null && IsText(value) ? new Position(key, value) : null,
            "status" => value is null ? new Position(key, null) : EnumValue<JobStatus>(value) is { } status ? new Position(key, status) : null,
            "stage" => value is null ? new Position(key, null) : EnumValue<JobKind>(value) is { } stage ? new Position(key, stage) : null,
            "updatedAt" => long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) && ticks <= DateTimeOffset.MaxValue.UtcTicks
                ? new Position(key, new DateTimeOffset(ticks, TimeSpan.Zero)) : null,
            _ => value is null ? new Position(key, null) : null,
        };
    }

    /// <summary>Why a cursor was refused: it names the <c>after</c> parameter.</summary>
    public RuleViolation NotACursor => new("after", "Cursor",
        $"That is not a cursor of this list sorted by {Name}; use the 'next' of the page before, with the same sort.");

    private static bool IsText(string text) => text.Length is > 0 and <= MappingRules.FieldMaxLength && TextRules.IndexOfRefused(text) < 0;

    /// <summary>A URL's length: more is not a cursor this server wrote.</summary>
    private const int MaxCursorLength = 8_192;

    /// <summary>Names as UTF-8, not <c>\uXXXX</c>: a cursor stays within a URL's length (Kestrel takes 8 KiB).</summary>
    private static readonly JsonSerializerOptions CursorJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static TEnum? EnumValue<TEnum>(string text) where TEnum : struct, Enum =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) && Enum.IsDefined(typeof(TEnum), number)
            ? (TEnum)Enum.ToObject(typeof(TEnum), number) : null;

    /// <summary>
    /// The rows of <paramref name="query"/> after <paramref name="position"/> in this order. Where a store puts
    /// empty values (a status or stage not yet set) differs: SQLite sorts them first, PostgreSQL last
    /// (<paramref name="nullsFirst"/> says which, for an ascending sort).
    /// </summary>
    public IQueryable<Mapping> After(IQueryable<Mapping> query, Position position, bool nullsFirst)
    {
        ArgumentNullException.ThrowIfNull(position);
        var nullsBefore = nullsFirst != Descending;
        return Key switch
        {
            "destinationName" => query.Where(Beyond(m => m.DestinationName, (string)position.Value!, position.DeviceKey, nullsBefore)),
            "status" => query.Where(Beyond(m => (int?)m.Status, (int?)(JobStatus?)position.Value, position.DeviceKey, nullsBefore)),
            "stage" => query.Where(Beyond(m => (int?)m.Stage, (int?)(JobKind?)position.Value, position.DeviceKey, nullsBefore)),
            "updatedAt" => query.Where(Beyond(m => m.UpdatedAt, (DateTimeOffset)position.Value!, position.DeviceKey, nullsBefore)),
            _ => query.Where(KeyBeyond(position.DeviceKey)),
        };
    }

    /// <summary>
    /// (column, device key) beyond (value, key) in this order, written so that the database starts the index range
    /// at the value: <c>column ≥ value AND (column > value OR key > last key)</c>, and what nulls add.
    /// </summary>
    private Expression<Func<Mapping, bool>> Beyond<T>(Expression<Func<Mapping, T>> column, T value, string deviceKey, bool nullsBefore)
    {
        var row = column.Parameters[0];
        var c = column.Body;
        var keyBeyond = KeyBeyond(row, deviceKey);
        Expression body;
        if (value is null)
        {
            var isNull = Expression.Equal(c, Expression.Constant(null, c.Type));
            var sameAndBeyond = Expression.AndAlso(isNull, keyBeyond);
            body = nullsBefore ? Expression.OrElse(sameAndBeyond, Expression.Not(isNull)) : sameAndBeyond;
        }
        else
        {
            var v = Parameter(value);
            body = Expression.AndAlso(Compare(c, v, orEqual: true), Expression.OrElse(Compare(c, v, orEqual: false), keyBeyond));
            if (!nullsBefore && Nullable.GetUnderlyingType(c.Type) is not null)
            {
                body = Expression.OrElse(body, Expression.Equal(c, Expression.Constant(null, c.Type)));
            }
        }
        return Expression.Lambda<Func<Mapping, bool>>(body, row);
    }

    private Expression<Func<Mapping, bool>> KeyBeyond(string deviceKey)
    {
        var row = Expression.Parameter(typeof(Mapping), "m");
        return Expression.Lambda<Func<Mapping, bool>>(KeyBeyond(row, deviceKey), row);
    }

    private Expression KeyBeyond(ParameterExpression row, string deviceKey) =>
        Compare(Expression.Property(row, nameof(Mapping.SourceDeviceKey)), Parameter(deviceKey), orEqual: false);

    /// <summary><paramref name="left"/> after (or at) <paramref name="right"/> in this order's direction.</summary>
    private Expression Compare(Expression left, Expression right, bool orEqual)
    {
        if (left.Type == typeof(string))
        {
            // string.Compare(a, b) > 0 is how EF Core writes a > b for text, in the column's collation.
            left = Expression.Call(typeof(string).GetMethod(nameof(string.Compare), [typeof(string), typeof(string)])!, left, right);
            right = Expression.Constant(0);
        }
        return (Descending, orEqual) switch
        {
            (false, false) => Expression.GreaterThan(left, right),
            (false, true) => Expression.GreaterThanOrEqual(left, right),
            (true, false) => Expression.LessThan(left, right),
            (true, true) => Expression.LessThanOrEqual(left, right),
        };
    }

    /// <summary>A value the query sends as a parameter (EF Core parameterises a captured member, not a constant).</summary>
    private static MemberExpression Parameter<T>(T value) =>
        Expression.Property(Expression.Constant(new Captured<T>(value)), nameof(Captured<T>.Value));

    private sealed class Captured<T>(T value)
    {
        public T Value { get; } = value;
    }

    /// <summary>Where a cursor points: the last row's device key and its value of the sort's column (null where it has none).</summary>
    public sealed record Position(string DeviceKey, object? Value);
}
