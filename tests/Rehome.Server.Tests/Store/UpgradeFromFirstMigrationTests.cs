using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Rehome.Core.Agents;
using Rehome.Core.Policies;
using Rehome.Core.Runs;
using Rehome.Server.Auth;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Store;

/// <summary>
/// A store made by the first release (the Initial migration), with rows written as that schema had them, upgrades to
/// the latest migration and keeps them as the data migrations say: administrators become Administrator accounts with
/// a security stamp each and keep their tokens, a policy's old "all" kinds become today's all, and projects, mappings,
/// agents, runs and jobs read back whole.
/// </summary>
public sealed class UpgradeFromFirstMigrationTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 28, 9, 0, 0, TimeSpan.Zero);
    private static readonly Guid FirstAdmin = Guid.NewGuid(), SecondAdmin = Guid.NewGuid(), Token = Guid.NewGuid(), Policy = Guid.NewGuid(),
        Source = Guid.NewGuid(), Destination = Guid.NewGuid(), Project = Guid.NewGuid(), Mapping = Guid.NewGuid(), Agent = Guid.NewGuid(),
        RunId = Guid.NewGuid(), JobId = Guid.NewGuid();

    /// <summary>The first release's rows, column by column as its schema had them (no later column).</summary>
    private static readonly (string Table, (string Column, object Value)[] Values)[] Rows =
    [
        ("administrators", [("id", FirstAdmin), ("user_name", "admin"), ("password_hash", "hash-of-the-first"), ("created_at", At)]),
        ("administrators", [("id", SecondAdmin), ("user_name", "second"), ("password_hash", "hash-of-the-second"), ("created_at", At)]),
        ("api_tokens", [("id", Token), ("account_id", FirstAdmin), ("name", "ci"), ("prefix", "rht_abcd"), ("token_hash", "token-hash"), ("created_at", At)]),
        ("policies", [("id", Policy), ("name", "old-all"), ("updated_at", At), ("created_at", At),
            ("settings", """{"cacheUserCredentials":false,"areas":{"fileSystemPaths":["C:\\"],"registryKeys":[],"kinds":31},"areasToIgnore":{"fileSystemPaths":[],"registryKeys":[],"kinds":0},"reaclMode":1}""")]),
        ("connections", [("id", Source), ("name", "contoso"), ("role", 0), ("kind", 1), ("created_at", At), ("updated_at", At),
            ("configuration_key_hash", "key-hash"), ("entra_enabled", false), ("use_ldaps", false), ("rejoin_method", 0)]),
        ("connections", [("id", Destination), ("name", "fabrikam"), ("role", 1), ("kind", 0), ("created_at", At), ("updated_at", At),
            ("domain_dns_name", "fabrikam.example"), ("service_account_password_protected", "protected-password"), ("entra_enabled", false),
            ("use_ldaps", true), ("rejoin_method", 1)]),
        ("projects", [("id", Project), ("name", "wave 1"), ("tags", """["wave-1"]"""), ("source_connection_id", Source),
            ("destination_connection_id", Destination), ("policy_id", Policy), ("created_at", At), ("updated_at", At)]),
        ("agents", [("id", Agent), ("connection_id", Source), ("device_name", "CTS-PC00001"), ("device_key", "cts-pc00001"), ("credential_hash", "credential-hash"),
            ("os_version", "Windows 11"), ("agent_version", "1.0"), ("join_type", "Domain"), ("domain_name", "contoso.example"),
            ("logged_on_users", """["CONTOSO\\ann"]"""), ("profile_sids", "[]"), ("enrolled_at", At), ("last_seen_at", At)]),
        ("mappings", [("id", Mapping), ("project_id", Project), ("source_device", "CTS-PC00001"), ("source_device_key", "cts-pc00001"),
            ("destination_name", "FAB-PC00001"), ("primary_user", @"CONTOSO\ann"), ("agent_id", Agent), ("stage", (int)JobKind.RejoinDomain),
            ("status", (int)JobStatus.Finished), ("last_job_id", JobId), ("last_run_id", RunId), ("items_done", 3), ("items_total", 3),
            ("rejoined_at", At), ("created_at", At), ("updated_at", At)]),
        ("runs", [("id", RunId), ("project_id", Project), ("requested_by", "admin"), ("created_at", At), ("start_at", At), ("released_at", At),
            ("kinds", nameof(JobKind.RejoinDomain)), ("mapping_count", 1), ("job_count", 1)]),
        ("jobs", [("id", JobId), ("run_id", RunId), ("project_id", Project), ("mapping_id", Mapping), ("kind", (int)JobKind.RejoinDomain),
            ("status", (int)JobStatus.Finished), ("needs_destination_preparation", true), ("attempts", 1), ("created_at", At), ("started_at", At),
            ("finished_at", At), ("updated_at", At), ("items_done", 3), ("items_total", 3), ("items_changed", 2), ("items_failed", 0),
            ("stop_requested", false), ("agent_id", Agent), ("step", "Restart")]),
    ];

    [Fact]
    public async Task On_SQLite_a_store_of_the_first_release_upgrades_to_the_latest_and_keeps_its_rows()
    {
        var file = Path.Combine(Path.GetTempPath(), "rehome-tests", Guid.NewGuid().ToString("N") + ".db");
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await using (var db = new SqliteRehomeDbContext(new DbContextOptionsBuilder<SqliteRehomeDbContext>().UseSqlite($"Data Source={file}").Options))
        {
            // The SQLite store keeps ids as big-endian bytes and times as Unix milliseconds (SqliteRehomeDbContext).
            await UpgradeAndCheckAsync(db, value => value switch
            {
                Guid id => id.ToByteArray(bigEndian: true),
                DateTimeOffset time => time.ToUnixTimeMilliseconds(),
                _ => value,
            });
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Delete(file);
    }

    [Fact]
    public async Task On_PostgreSQL_a_store_of_the_first_release_upgrades_to_the_latest_and_keeps_its_rows()
    {
        await using var database = await ThrowawayPostgres.CreateAsync();
        await using var db = new PostgresRehomeDbContext(new DbContextOptionsBuilder<PostgresRehomeDbContext>().UseNpgsql(database.ConnectionString).Options);
        await UpgradeAndCheckAsync(db, value => value);
    }

    private static async Task UpgradeAndCheckAsync(RehomeDbContext db, Func<object, object> stored)
    {
        var migrator = db.GetService<IMigrator>();
        var migrations = db.Database.GetMigrations().ToList();
        Assert.EndsWith("_Initial", migrations[0], StringComparison.Ordinal);
        await migrator.MigrateAsync(migrations[0]);
        foreach (var (table, values) in Rows)
        {
            var columns = string.Join(", ", values.Select(v => v.Column));
            var placeholders = string.Join(", ", values.Select((_, i) => $"{{{i}}}"));
            // Table and column names are the test's own constants; the values go as parameters.
            var insert = $"INSERT INTO {table} ({columns}) VALUES ({placeholders})";
            await db.Database.ExecuteSqlRawAsync(insert, values.Select(v => stored(v.Value)));
        }

        await migrator.MigrateAsync();

        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        var accounts = await db.Accounts.AsNoTracking().OrderBy(a => a.UserName).ToListAsync();
        Assert.Equal(["admin", "second"], accounts.Select(a => a.UserName));
        Assert.Equal(["hash-of-the-first", "hash-of-the-second"], accounts.Select(a => a.PasswordHash));
        Assert.All(accounts, a => Assert.Equal(Role.Administrator, a.Role));
        Assert.All(accounts, a => Assert.Matches("^[0-9a-f]{32}$", a.SecurityStamp));
        Assert.NotEqual(accounts[0].SecurityStamp, accounts[1].SecurityStamp);
        var token = await db.ApiTokens.AsNoTracking().SingleAsync();
        Assert.Equal((Token, FirstAdmin, "token-hash", (Role?)null), (token.Id, token.AccountId, token.TokenHash, token.Scope));

        var policy = await db.Policies.AsNoTracking().SingleAsync();
        Assert.Equal(AreaKinds.All, policy.Settings.Areas.Kinds);
        Assert.Equal(AreaKinds.None, policy.Settings.AreasToIgnore.Kinds);
        Assert.Equal((false, ReaclMode.Add), (policy.Settings.CacheUserCredentials, policy.Settings.ReaclMode));

        var connections = await db.Connections.AsNoTracking().OrderBy(c => c.Name).ToListAsync();
        Assert.Equal(["contoso", "fabrikam"], connections.Select(c => c.Name));
        Assert.Equal("key-hash", connections[0].ConfigurationKeyHash);
        Assert.Equal(("protected-password", true), (connections[1].ServiceAccountPasswordProtected, connections[1].UseLdaps));
        var project = await db.Projects.AsNoTracking().SingleAsync();
        Assert.Equal((Source, Destination, Policy, "wave 1"), (project.SourceConnectionId, project.DestinationConnectionId, project.PolicyId, project.Name));
        Assert.Equal(["wave-1"], project.Tags);

        var agent = await db.Agents.AsNoTracking().SingleAsync();
        Assert.Equal((Agent, "CTS-PC00001", AgentApproval.Active, At), (agent.Id, agent.DeviceName, agent.Approval, agent.EnrolledAt));
        var mapping = await db.Mappings.AsNoTracking().SingleAsync();
        Assert.Equal((Agent, JobKind.RejoinDomain, JobStatus.Finished, JobId, (DateTimeOffset?)At),
            (mapping.AgentId, mapping.Stage, mapping.Status, mapping.LastJobId, mapping.RejoinedAt));
        var run = await db.Runs.AsNoTracking().SingleAsync();
        Assert.Equal((RunId, 1, false), (run.Id, run.JobCount, run.DryRun));
        var job = await db.Jobs.AsNoTracking().SingleAsync();
        Assert.Equal((JobId, JobStatus.Finished, 1, 3, 2, "Restart", false, (Guid?)null, (Guid?)null),
            (job.Id, job.Status, job.Attempts, job.ItemsDone, job.ItemsChanged, job.Step, job.DryRun, job.RevertOf, job.RevertedBy));
        Assert.Null(job.Areas);
    }
}
