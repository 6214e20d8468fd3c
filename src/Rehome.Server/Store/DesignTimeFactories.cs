using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Rehome.Server.Store;

/// <summary>Lets <c>dotnet ef migrations add</c> build the SQLite context without starting the server.</summary>
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteRehomeDbContext>
{
    public SqliteRehomeDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteRehomeDbContext>().UseSqlite("Data Source=design.db").Options);
}

/// <summary>Lets <c>dotnet ef migrations add</c> build the PostgreSQL context without a database.</summary>
internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresRehomeDbContext>
{
    public PostgresRehomeDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresRehomeDbContext>().UseNpgsql("Host=localhost;Database=design").Options);
}
