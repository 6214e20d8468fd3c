using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Rehome.Server.Store;

/// <summary>
/// The embedded default. SQLite has no time type: times are stored as Unix milliseconds, so that they sort
/// and compare as numbers in SQL (EF Core's default text form does not compare across offsets). GUIDs stay
/// text, as both EF Core and Microsoft.Data.Sqlite bind them.
/// </summary>
public sealed class SqliteRehomeDbContext(DbContextOptions<SqliteRehomeDbContext> options) : RehomeDbContext(options)
{
    public override StoreProvider Provider => StoreProvider.Sqlite;

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UnixMillisecondsConverter>();
    }
}

/// <summary>Stores a time as Unix milliseconds (UTC).</summary>
public sealed class UnixMillisecondsConverter() : ValueConverter<DateTimeOffset, long>(
    value => value.ToUnixTimeMilliseconds(),
    value => DateTimeOffset.FromUnixTimeMilliseconds(value));
