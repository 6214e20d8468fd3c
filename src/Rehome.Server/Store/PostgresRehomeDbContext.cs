using Microsoft.EntityFrameworkCore;

namespace Rehome.Server.Store;

/// <summary>PostgreSQL, for several server replicas on one database.</summary>
public sealed class PostgresRehomeDbContext(DbContextOptions<PostgresRehomeDbContext> options) : RehomeDbContext(options)
{
    public override StoreProvider Provider => StoreProvider.PostgreSql;
}
