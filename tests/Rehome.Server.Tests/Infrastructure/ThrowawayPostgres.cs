using Npgsql;

namespace Rehome.Server.Tests.Infrastructure;

/// <summary>An empty database of its own on the test PostgreSQL server (REHOME_TEST_POSTGRES), dropped at the end.</summary>
public sealed class ThrowawayPostgres : IAsyncDisposable
{
    private readonly string admin;
    private readonly string database;

    private ThrowawayPostgres(string admin, string database)
    {
        this.admin = admin;
        this.database = database;
        ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = database }.ToString();
    }

    public string ConnectionString { get; }

    public static async Task<ThrowawayPostgres> CreateAsync()
    {
        var admin = Environment.GetEnvironmentVariable("REHOME_TEST_POSTGRES")
            ?? throw new InvalidOperationException("REHOME_TEST_POSTGRES is not set: run the tests with ./test.sh.");
        var database = "rehome_test_" + Guid.NewGuid().ToString("N");
        await ExecuteAsync(admin, $"CREATE DATABASE {database}");
        return new ThrowawayPostgres(admin, database);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
