using System.Data.Common;

namespace Rehome.Server.Store;

/// <summary>
/// The few differences the hand-written SQL statements must know about: how a time is passed and whether
/// row locks can be skipped. Everything else (snake_case names, GUID and boolean parameters) reads the same.
/// </summary>
public sealed class SqlDialect(StoreProvider provider)
{
    public StoreProvider Provider { get; } = provider;

    public bool IsPostgres => Provider == StoreProvider.PostgreSql;

    /// <summary>PostgreSQL skips rows another replica has locked; SQLite has one writer at a time anyway.</summary>
    public string SkipLocked => IsPostgres ? "FOR UPDATE SKIP LOCKED" : "";

    public object Time(DateTimeOffset value) => IsPostgres ? value.ToUniversalTime() : value.ToUnixTimeMilliseconds();

    public object? Time(DateTimeOffset? value) => value is { } v ? Time(v) : null;

    /// <summary>A value as this store keeps it: GUIDs become big-endian blobs on SQLite (see SqliteRehomeDbContext).</summary>
    public object? Value(object? value) => value is Guid id && !IsPostgres ? id.ToByteArray(true) : value;

    /// <summary>
    /// A GUID as SQLite keeps it (16 big-endian bytes, as <see cref="Value"/> makes it) written into a buffer: many ids
    /// end to end in one blob parameter, cut again by <see cref="SqliteCounter"/>.
    /// </summary>
    public static void WriteSqliteId(Guid id, Span<byte> into) => id.TryWriteBytes(into, bigEndian: true, out _);

    /// <summary>SQLite's rows n(k) = 0 … @count − 1: the places of the ids (or other fixed-width fields) in one blob parameter.</summary>
    public const string SqliteCounter = "WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k + 1 < @count)";

    /// <summary>A time as <see cref="Time(DateTimeOffset)"/> wrote it.</summary>
    public DateTimeOffset ReadTime(DbDataReader reader, int ordinal) =>
        IsPostgres ? reader.GetFieldValue<DateTimeOffset>(ordinal) : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));

    public Guid ReadGuid(DbDataReader reader, int ordinal) =>
        IsPostgres ? reader.GetGuid(ordinal) : new Guid(reader.GetFieldValue<byte[]>(ordinal), true);

    /// <summary>Adds a parameter in the store's form; <c>null</c> becomes DBNull.</summary>
    public DbParameter Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = Value(value) ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return parameter;
    }
}
