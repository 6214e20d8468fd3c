using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Rehome.Server.Store;

/// <summary>PostgreSQL, for several server replicas on one database.</summary>
public sealed class PostgresRehomeDbContext(DbContextOptions<PostgresRehomeDbContext> options) : RehomeDbContext(options)
{
    public override StoreProvider Provider => StoreProvider.PostgreSql;

    /// <summary>Npgsql writes only UTC offsets to timestamptz; times given with another offset are the same instant in UTC.</summary>
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) =>
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UtcConverter>();
}

/// <summary>Stores a time as the same instant in UTC.</summary>
public sealed class UtcConverter() : ValueConverter<DateTimeOffset, DateTimeOffset>(value => value.ToUniversalTime(), value => value);
