using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Store;

public sealed class StoreTests
{
    [Fact]
    public void The_SQLite_migrations_match_the_model()
    {
        using var db = new SqliteDesignTimeFactoryForTests().Create();

        Assert.False(db.Database.HasPendingModelChanges(), "Run 'dotnet ef migrations add' for the SQLite context.");
    }

    [Fact]
    public void The_PostgreSQL_migrations_match_the_model()
    {
        using var db = new PostgresRehomeDbContext(new DbContextOptionsBuilder<PostgresRehomeDbContext>().UseNpgsql("Host=localhost").Options);

        Assert.False(db.Database.HasPendingModelChanges(), "Run 'dotnet ef migrations add' for the PostgreSQL context.");
    }

    [Fact]
    public async Task Every_connection_of_a_started_SQLite_server_plans_with_the_statistics_the_migrations_wrote()
    {
        await using var host = await ServerHost.StartAsync(StoreProvider.Sqlite);
        // The server's pooled connections, the one that migrated among them: all taken at once so that each is asked.
        var scopes = Enumerable.Range(0, 4).Select(_ => host.Scope()).ToList();
        try
        {
            foreach (var scope in scopes)
            {
                var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
                await db.Database.OpenConnectionAsync();
                await using var command = db.Database.GetDbConnection().CreateCommand();
                // What the list counts for a search its index answered with a few ids (MappingQuery, MappingCounts).
                command.CommandText = """
                    EXPLAIN QUERY PLAN SELECT COUNT(*) FROM (SELECT 1 FROM mappings AS m
                    WHERE m.project_id = X'01' AND m.id IN (X'02', X'03', X'04') LIMIT 10001)
                    """;
                var plan = new List<string>();
                await using (var reader = await command.ExecuteReaderAsync())
                {
                    while (await reader.ReadAsync())
                    {
                        plan.Add(reader.GetString(3));
                    }
                }
                // Without the statistics SQLite walks the project's rows (1.2 s at 1,000,000) instead of looking up the ids.
                Assert.Contains(plan, line => line.Contains("(id=?)", StringComparison.Ordinal));
            }
        }
        finally
        {
            foreach (var scope in scopes)
            {
                await scope.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task The_embedded_store_is_a_SQLite_file_in_write_ahead_mode_under_the_data_folder()
    {
        await using var host = await ServerHost.StartAsync(StoreProvider.Sqlite);
        await using var scope = host.Scope();
        var options = scope.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<StoreOptions>>().Value;
        var file = Path.Combine(options.DataDirectory, "rehome.db");

        Assert.True(File.Exists(file));
        await using var connection = new SqliteConnection($"Data Source={file}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Data_protection_keys_are_kept_in_the_store_so_secrets_survive_a_restart()
    {
        var folder = Path.Combine(Path.GetTempPath(), "rehome-tests", Guid.NewGuid().ToString("N"));
        var settings = new Dictionary<string, string?> { ["Rehome:Store:ConnectionString"] = $"Data Source={Path.Combine(folder, "kept.db")}" };
        System.IO.Directory.CreateDirectory(folder);
        string protectedSecret;
        await using (var first = await ServerHost.StartAsync(StoreProvider.Sqlite, settings))
        {
            await using var scope = first.Scope();
            protectedSecret = scope.ServiceProvider.GetRequiredService<Rehome.Server.Secrets.SecretProtector>().Protect("kept across restarts");
        }
        await using var second = await ServerHost.StartAsync(StoreProvider.Sqlite, settings);
        await using var again = second.Scope();

        Assert.Equal("kept across restarts", again.ServiceProvider.GetRequiredService<Rehome.Server.Secrets.SecretProtector>().Unprotect(protectedSecret));
    }

    [Fact]
    public async Task With_a_key_certificate_the_key_ring_is_encrypted_in_the_store()
    {
        var folder = Path.Combine(Path.GetTempPath(), "rehome-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(folder);
        using var key = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest(
            "CN=Rehome key ring", key, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var pfx = Path.Combine(folder, "keyring.pfx");
        await File.WriteAllBytesAsync(pfx, certificate.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx, "pfx-password"));
        var settings = new Dictionary<string, string?>
        {
            ["Rehome:Store:ConnectionString"] = $"Data Source={Path.Combine(folder, "kept.db")}",
            ["Rehome:Secrets:KeyCertificatePath"] = pfx,
            ["Rehome:Secrets:KeyCertificatePassword"] = "pfx-password",
        };
        string protectedSecret;
        await using (var first = await ServerHost.StartAsync(StoreProvider.Sqlite, settings))
        {
            await using var scope = first.Scope();
            protectedSecret = scope.ServiceProvider.GetRequiredService<Rehome.Server.Secrets.SecretProtector>().Protect("kept under the certificate");
            var ring = await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().DataProtectionKeys.AsNoTracking().Select(k => k.Xml).ToListAsync();
            Assert.All(ring, xml => Assert.Contains("encryptedSecret", xml, StringComparison.Ordinal));
        }
        await using var second = await ServerHost.StartAsync(StoreProvider.Sqlite, settings);
        await using var again = second.Scope();

        Assert.Equal("kept under the certificate", again.ServiceProvider.GetRequiredService<Rehome.Server.Secrets.SecretProtector>().Unprotect(protectedSecret));
    }

    [Fact]
    public async Task A_unique_index_violation_is_recognised_as_a_conflict()
    {
        await using var host = await ServerHost.StartAsync(StoreProvider.Sqlite);
        await using var scope = host.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var now = DateTimeOffset.UtcNow;
        db.Policies.Add(new Core.Policies.MigrationPolicy { Id = Guid.NewGuid(), Name = "twice", Settings = new(), CreatedAt = now, UpdatedAt = now });
        await db.SaveChangesAsync();
        db.ChangeTracker.Clear();
        db.Policies.Add(new Core.Policies.MigrationPolicy { Id = Guid.NewGuid(), Name = "twice", Settings = new(), CreatedAt = now, UpdatedAt = now });

        var error = await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());

        Assert.True(Rehome.Server.Api.UniqueViolationHandler.IsUniqueViolation(error));
        Assert.False(Rehome.Server.Api.UniqueViolationHandler.IsUniqueViolation(new DbUpdateException("other")));
    }

    private sealed class SqliteDesignTimeFactoryForTests
    {
        public SqliteRehomeDbContext Create() =>
            new(new DbContextOptionsBuilder<SqliteRehomeDbContext>().UseSqlite("Data Source=:memory:").Options);
    }
}
