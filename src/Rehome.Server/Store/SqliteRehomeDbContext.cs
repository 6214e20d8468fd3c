using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Rehome.Server.Store;

/// <summary>
/// The embedded default. SQLite has no time or GUID type: times are stored as Unix milliseconds, so that they
/// sort and compare as numbers in SQL (EF Core's default text form does not compare across offsets); GUIDs as
/// 16-byte big-endian blobs, so that ids that increase (version 7) sort as they were made and a run's jobs
/// append to their indexes, at less than half the size of the 36-character text.
/// </summary>
public sealed class SqliteRehomeDbContext : RehomeDbContext
{
    public SqliteRehomeDbContext(DbContextOptions<SqliteRehomeDbContext> options)
        : base(options)
    {
        // Every save in a transaction, so through SqliteWriteGate: EF Core sends a save of one statement (an agent's facts,
        // a report's items) without one, and such a statement waited for SQLite's write lock in its busy handler, asleep
        // on a thread, while thousands of gated transactions passed the lock on among themselves. Kept by the context
        // pool, which restores what the constructor set.
        Database.AutoTransactionBehavior = AutoTransactionBehavior.Always;
    }

    public override StoreProvider Provider => StoreProvider.Sqlite;

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UnixMillisecondsConverter>();
        configurationBuilder.Properties<Guid>().HaveConversion<BigEndianGuidConverter>();
    }
}

/// <summary>Stores a GUID as its 16 bytes in RFC 9562 (big-endian) order.</summary>
public sealed class BigEndianGuidConverter() : ValueConverter<Guid, byte[]>(
    value => value.ToByteArray(true),
    value => new Guid(value, true));

/// <summary>Stores a time as Unix milliseconds (UTC).</summary>
public sealed class UnixMillisecondsConverter() : ValueConverter<DateTimeOffset, long>(
    value => value.ToUnixTimeMilliseconds(),
    value => DateTimeOffset.FromUnixTimeMilliseconds(value));
