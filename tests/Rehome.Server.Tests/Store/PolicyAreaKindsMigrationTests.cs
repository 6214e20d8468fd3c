using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Rehome.Core.Policies;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Store;

/// <summary>
/// A policy stored before scheduled tasks and user hives existed said "all" as 31; upgraded, it says all of today's
/// kinds (127). A policy whose kinds were chosen one by one keeps them.
/// </summary>
public sealed class PolicyAreaKindsMigrationTests
{
    private const string Before = "JobAreasDryRunRevert";

    /// <summary>The JSON an older server stored: numeric kinds, camelCase names (RehomeDbContext.JsonOptions).</summary>
    private static string Settings(int kinds, int ignored) =>
        $$"""{"cacheUserCredentials":true,"areas":{"fileSystemPaths":["C:\\"],"registryKeys":[],"kinds":{{kinds}}},"areasToIgnore":{"fileSystemPaths":[],"registryKeys":[],"kinds":{{ignored}}},"reaclMode":0}""";

    private static async Task UpgradeAndCheckAsync(RehomeDbContext db)
    {
        var migrator = db.GetService<IMigrator>();
        var before = db.Database.GetMigrations().Single(m => m.EndsWith("_" + Before, StringComparison.Ordinal));
        await migrator.MigrateAsync(before);
        var rows = new (string Name, int Kinds, int Ignored)[] { ("old-all", 31, 0), ("chosen", 15, 0), ("ignore-all", 31, 31), ("files-only", 0, 0) };
        foreach (var (name, kinds, ignored) in rows)
        {
            await db.Database.ExecuteSqlAsync(
                $"INSERT INTO policies (id, name, settings, created_at, updated_at) VALUES ({Guid.NewGuid()}, {name}, {Settings(kinds, ignored)}, {DateTimeOffset.UnixEpoch}, {DateTimeOffset.UnixEpoch})");
        }

        await migrator.MigrateAsync();

        // Only the two columns: the raw insert above wrote its id and times in the provider's plain form.
        var policies = (await db.Policies.AsNoTracking().Select(p => new { p.Name, p.Settings }).ToListAsync()).ToDictionary(p => p.Name, p => p.Settings);
        Assert.Equal(AreaKinds.All, policies["old-all"].Areas.Kinds);
        Assert.Equal(AreaKinds.None, policies["old-all"].AreasToIgnore.Kinds);
        Assert.Equal(AreaKinds.Shares | AreaKinds.Services | AreaKinds.Printers | AreaKinds.LocalGroups, policies["chosen"].Areas.Kinds);
        Assert.Equal(AreaKinds.All, policies["ignore-all"].AreasToIgnore.Kinds);
        Assert.Equal(AreaKinds.None, policies["files-only"].Areas.Kinds);
        Assert.Equal([@"C:\"], policies["old-all"].Areas.FileSystemPaths);
    }

    [Fact]
    public async Task On_SQLite_a_policy_stored_with_the_old_all_migrates_every_kind_and_chosen_kinds_stay()
    {
        var file = Path.Combine(Path.GetTempPath(), "rehome-tests", Guid.NewGuid().ToString("N") + ".db");
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await using (var db = new SqliteRehomeDbContext(new DbContextOptionsBuilder<SqliteRehomeDbContext>().UseSqlite($"Data Source={file}").Options))
        {
            await UpgradeAndCheckAsync(db);
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Delete(file);
    }

    [Fact]
    public async Task On_PostgreSQL_a_policy_stored_with_the_old_all_migrates_every_kind_and_chosen_kinds_stay()
    {
        await using var database = await ThrowawayPostgres.CreateAsync();
        await using var db = new PostgresRehomeDbContext(new DbContextOptionsBuilder<PostgresRehomeDbContext>().UseNpgsql(database.ConnectionString).Options);
        await UpgradeAndCheckAsync(db);
    }
}
