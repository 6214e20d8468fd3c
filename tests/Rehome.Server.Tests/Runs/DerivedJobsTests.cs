using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Core.Runs;
using Rehome.Server.Runs;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Runs;

/// <summary>
/// A run writes one run item per mapping and its jobs are derived (the all_jobs view) until a write turns them into
/// rows: they must read, lease, stop, re-run and go away exactly as rows do, on both stores.
/// </summary>
public sealed class DerivedJobsTests
{
    private static readonly string[] Kinds = ["RejoinDomain", "MigratePermissions", "MigrateEntraIdGroups", "RegisterAutopilot"];

    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    private static async Task<(Guid Project, List<Guid> Mappings, Guid Run)> RunAsync(ServerHost host, int mappings, DateTimeOffset? startAt = null)
    {
        // Entra ID offline: no destination preparation, so every mapping is one run item.
        var project = await host.Client.CreateProjectAsync("EntraId", "Offline", sourceEntraId: true);
        var ids = await host.Client.ImportDevicesAsync(project, "DRV-", mappings);
        var run = await host.Client.PostJsonAsync($"/api/v1/projects/{project}/runs", startAt is null
            ? new { kinds = Kinds, mappingIds = ids }
            : new { kinds = Kinds, mappingIds = ids, startAt });
        return (project, ids, run.GetProperty("run").Id());
    }

    private static async Task<List<Job>> JobsOfRunAsync(ServerHost host, Guid runId)
    {
        await using var scope = host.Scope();
        return await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Jobs.AsNoTracking().Where(j => j.RunId == runId).ToListAsync();
    }

    private static string Whole(IEnumerable<Job> jobs) =>
        JsonSerializer.Serialize(jobs.OrderBy(j => j.Id).ToList(), ServerHost.Json);

    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.PostgreSql)]
    public async Task A_runs_jobs_read_the_same_derived_and_as_rows(StoreProvider provider)
    {
        await using var host = await ServerHost.StartAsync(provider);
        var (_, mappings, runId) = await RunAsync(host, 4);
        await using var scope = host.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();

        Assert.Equal(4, await db.RunItems.CountAsync(i => i.RunId == runId));
        Assert.Equal(0, await db.StoredJobs.CountAsync(j => j.RunId == runId));
        var derived = await db.Jobs.AsNoTracking().Where(j => j.RunId == runId).ToListAsync();
        Assert.Equal(16, derived.Count);
        foreach (var mapping in mappings)
        {
            var jobs = derived.Where(j => j.MappingId == mapping).ToDictionary(j => j.Kind);
            var rejoin = jobs[JobKind.RejoinDomain];
            Assert.Equal(JobStatus.WaitingToStart, rejoin.Status);
            Assert.Equal(JobStatus.WaitingForPrerequisite, jobs[JobKind.MigratePermissions].Status);
            Assert.Equal(rejoin.Id, jobs[JobKind.MigratePermissions].PrerequisiteJobId);
            Assert.Equal(JobStatus.WaitingToStart, jobs[JobKind.RegisterAutopilot].Status);
            Assert.Null(jobs[JobKind.RegisterAutopilot].PrerequisiteJobId);
            Assert.All(jobs.Values, j => Assert.Equal(RunItems.ItemOf(rejoin.Id), RunItems.ItemOf(j.Id)));
        }
        // The API lists and finds them.
        var one = derived[5];
        var read = await host.Client.GetJsonAsync($"/api/v1/jobs/{one.Id}");
        Assert.Equal(one.Id, read.Id());
        var listed = await host.Client.GetJsonAsync($"/api/v1/runs/{runId}/jobs?pageSize=100");
        Assert.Contains(one.Id.ToString(), listed.GetRawText(), StringComparison.OrdinalIgnoreCase);
        // The mappings show the run's first job: the rejoin.
        var shown = await db.Mappings.AsNoTracking().Where(m => mappings.Contains(m.Id)).ToListAsync();
        Assert.All(shown, m => Assert.Equal((runId, JobKind.RejoinDomain, JobStatus.WaitingToStart), (m.LastRunId!.Value, m.Stage!.Value, m.Status!.Value)));
        Assert.All(shown, m => Assert.Equal(derived.Single(j => j.MappingId == m.Id && j.Kind == JobKind.RejoinDomain).Id, m.LastJobId));

        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            Assert.Equal(16, await scope.ServiceProvider.GetRequiredService<RunItemStore>().MaterialiseRunAsync(runId, default));
            await transaction.CommitAsync();
        }

        Assert.Equal(0, await db.RunItems.CountAsync(i => i.RunId == runId));
        var rows = await db.StoredJobs.AsNoTracking().Where(j => j.RunId == runId).ToListAsync();
        Assert.Equal(Whole(derived), Whole(rows));
        Assert.Equal(Whole(rows), Whole(await db.Jobs.AsNoTracking().Where(j => j.RunId == runId).ToListAsync()));
    }

    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.PostgreSql)]
    public async Task Derived_jobs_are_leased_stopped_rerun_and_deleted_like_rows(StoreProvider provider)
    {
        await using var host = await ServerHost.StartAsync(provider);
        var (_, mappings, runId) = await RunAsync(host, 3);
        Guid JobOf(List<Job> jobs, int mapping, JobKind kind) => jobs.Single(j => j.MappingId == mappings[mapping] && j.Kind == kind).Id;
        List<Job> before;
        await using (var scope = host.Scope())
        {
            before = await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Jobs.AsNoTracking().Where(j => j.RunId == runId).ToListAsync();
        }

        // Leased: the agent gets the derived rejoin, by the id it had; its dependents follow it when it finishes.
        var leased = await host.EndNextJobAsync(mappings[0], JobStatus.Finished);
        Assert.Equal(JobOf(before, 0, JobKind.RejoinDomain), leased.Id);
        // Stopped one by one: a derived rejoin stops now and fails its dependents.
        await host.Client.PostJsonAsync($"/api/v1/jobs/{JobOf(before, 1, JobKind.RejoinDomain)}/stop", new { }, HttpStatusCode.OK);
        // Stopped as a run: the rest.
        await host.Client.PostJsonAsync($"/api/v1/runs/{runId}/stop", new { }, HttpStatusCode.OK);

        await using (var scope = host.Scope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
            Assert.Equal(0, await db.RunItems.CountAsync(i => i.RunId == runId));
            var after = await db.Jobs.AsNoTracking().Where(j => j.RunId == runId).ToDictionaryAsync(j => j.Id);
            Assert.Equal(12, after.Count);
            Assert.Equal(JobStatus.Finished, after[JobOf(before, 0, JobKind.RejoinDomain)].Status);
            Assert.Equal(JobStatus.Stopped, after[JobOf(before, 0, JobKind.MigratePermissions)].Status);
            Assert.Equal(JobStatus.Stopped, after[JobOf(before, 1, JobKind.RejoinDomain)].Status);
            Assert.Equal(JobStatus.Failed, after[JobOf(before, 1, JobKind.MigratePermissions)].Status);
            Assert.All(before.Where(j => j.MappingId == mappings[2]), j => Assert.Equal(JobStatus.Stopped, after[j.Id].Status));
            var shown = await db.Mappings.AsNoTracking().SingleAsync(m => m.Id == mappings[2]);
            Assert.Equal(JobStatus.Stopped, shown.Status);
        }

        // Re-run: the jobs that did not finish, as a new run of derived jobs.
        var rerun = await host.Client.PostJsonAsync($"/api/v1/runs/{runId}/rerun", new { });
        var rerunId = rerun.GetProperty("run").Id();
        await using (var scope = host.Scope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
            Assert.Equal(3, await db.RunItems.CountAsync(i => i.RunId == rerunId));
            var again = await db.Jobs.AsNoTracking().Where(j => j.RunId == rerunId).ToListAsync();
            Assert.Equal(11, again.Count);
            Assert.DoesNotContain(again, j => j.MappingId == mappings[0] && j.Kind == JobKind.RejoinDomain);
            // The rule that refuses a second active job of a kind sees derived jobs.
            var duplicate = await host.Client.PostJsonAsync($"/api/v1/projects/{(await db.Mappings.SingleAsync(m => m.Id == mappings[2])).ProjectId}/runs",
                new { kinds = new[] { "RegisterAutopilot" }, mappingIds = new[] { mappings[2] } }, HttpStatusCode.UnprocessableEntity);
            Assert.Contains("JobAlreadyActive", duplicate.GetRawText(), StringComparison.Ordinal);
        }

        // A mapping with derived jobs waiting cannot be deleted; once they are stopped, it goes with all its jobs and items.
        var delete = await host.Client.DeleteAsync($"/api/v1/mappings/{mappings[2]}");
        Assert.Equal(HttpStatusCode.Conflict, delete.StatusCode);
        await host.Client.PostJsonAsync($"/api/v1/runs/{rerunId}/stop", new { }, HttpStatusCode.OK);
        delete = await host.Client.DeleteAsync($"/api/v1/mappings/{mappings[2]}");
        Assert.True(delete.IsSuccessStatusCode, await delete.Content.ReadAsStringAsync());
        await using (var scope = host.Scope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
            Assert.False(await db.Jobs.AnyAsync(j => j.MappingId == mappings[2]));
            Assert.False(await db.RunItems.AnyAsync(i => i.MappingId == mappings[2]));
            Assert.Equal(0, await db.RunItems.CountAsync());
        }
    }

    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.PostgreSql)]
    public async Task A_run_stopped_before_any_job_was_made_a_row_stops_every_job_and_shows_it(StoreProvider provider)
    {
        await using var host = await ServerHost.StartAsync(provider);
        var (_, mappings, runId) = await RunAsync(host, 5);
        var before = await JobsOfRunAsync(host, runId);

        var stop = await host.Client.PostJsonAsync($"/api/v1/runs/{runId}/stop", new { }, HttpStatusCode.OK);

        Assert.Equal(20, stop.GetProperty("stoppedNow").GetInt32());
        Assert.Equal(0, stop.GetProperty("stopRequested").GetInt32());
        await using var scope = host.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        Assert.Equal(0, await db.RunItems.CountAsync(i => i.RunId == runId));
        var rows = await db.StoredJobs.AsNoTracking().Where(j => j.RunId == runId).ToDictionaryAsync(j => j.Id);
        Assert.Equal(before.Select(j => j.Id).Order(), rows.Keys.Order());
        Assert.All(before, j =>
        {
            var row = rows[j.Id];
            Assert.Equal((j.MappingId, j.Kind, j.PrerequisiteJobId), (row.MappingId, row.Kind, row.PrerequisiteJobId));
            Assert.Equal(JobStatus.Stopped, row.Status);
            Assert.Equal(JobErrorCodes.StoppedByAdministrator, row.ErrorCode);
            Assert.NotNull(row.ErrorMessage);
            Assert.Equal<DateTimeOffset?>(host.Now, row.FinishedAt);
        });
        var shown = await db.Mappings.AsNoTracking().Where(m => mappings.Contains(m.Id)).ToListAsync();
        Assert.All(shown, m => Assert.Equal((runId, JobKind.RejoinDomain, JobStatus.Stopped), (m.LastRunId!.Value, m.Stage!.Value, m.Status!.Value)));
        // Nothing is left to lease.
        Assert.Null(await host.WithTransitionsAsync(t => t.LeaseNextAsync(mappings[0], Guid.NewGuid(), Lease, CancellationToken.None)));
    }

    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.PostgreSql)]
    public async Task A_lease_claim_leaves_a_scheduled_runs_items_alone_until_the_run_is_released(StoreProvider provider)
    {
        await using var host = await ServerHost.StartAsync(provider);
        var (_, mappings, runId) = await RunAsync(host, 2, startAt: host.Now.AddHours(1));

        Assert.Null(await host.WithTransitionsAsync(t => t.LeaseNextAsync(mappings[0], Guid.NewGuid(), Lease, CancellationToken.None)));
        await using (var scope = host.Scope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
            Assert.Equal(2, await db.RunItems.CountAsync(i => i.RunId == runId && i.Scheduled));
            Assert.Equal(0, await db.StoredJobs.CountAsync(j => j.RunId == runId));
        }

        host.Time.Advance(TimeSpan.FromHours(1));
        await host.WithTransitionsAsync(t => t.ReleaseDueRunsAsync(CancellationToken.None));

        var leased = await host.WithTransitionsAsync(t => t.LeaseNextAsync(mappings[0], Guid.NewGuid(), Lease, CancellationToken.None));
        Assert.Equal(JobKind.RejoinDomain, leased!.Kind);
        Assert.DoesNotContain(await JobsOfRunAsync(host, runId), j => j.Status == JobStatus.Scheduled);
    }

    /// <summary>
    /// The review's race: a writer makes a scheduled item rows (here a stop of one job) while the run is released. The
    /// release updates items first, so it waits for that writer and then releases the rows it wrote; before, it
    /// released the rows it could see, then found the item gone, and the writer's rows stayed Scheduled for good.
    /// </summary>
    [Fact]
    public async Task A_release_waits_for_an_item_being_made_rows_and_releases_those_rows()
    {
        await using var host = await ServerHost.StartAsync(StoreProvider.PostgreSql);
        var (_, mappings, runId) = await RunAsync(host, 2, startAt: host.Now.AddHours(1));
        var jobs = await JobsOfRunAsync(host, runId);
        var autopilot = jobs.Single(j => j.MappingId == mappings[0] && j.Kind == JobKind.RegisterAutopilot);

        await using (var writer = host.Scope())
        {
            var db = writer.ServiceProvider.GetRequiredService<RehomeDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync();
            Assert.Equal(4, await writer.ServiceProvider.GetRequiredService<RunItemStore>().MaterialiseJobAsync(autopilot.Id, default));

            host.Time.Advance(TimeSpan.FromHours(1));
            var release = host.WithTransitionsAsync(t => t.ReleaseDueRunsAsync(CancellationToken.None));
            await WaitForLockWaitAsync(host, "UPDATE run_items", release);
            await transaction.CommitAsync();
            await release;
        }

        var after = await JobsOfRunAsync(host, runId);
        Assert.Equal(8, after.Count);
        Assert.DoesNotContain(after, j => j.Status == JobStatus.Scheduled);
        Assert.Equal(JobStatus.WaitingToStart, after.Single(j => j.Id == autopilot.Id).Status);
    }

    /// <summary>A lease claim never waits on an item another transaction holds (a stop of a large run, say): it skips it.</summary>
    [Fact]
    public async Task A_lease_claim_skips_an_item_another_transaction_holds_and_takes_it_once_free()
    {
        await using var host = await ServerHost.StartAsync(StoreProvider.PostgreSql);
        var (_, mappings, runId) = await RunAsync(host, 1);

        await using (var holder = host.Scope())
        {
            var db = holder.ServiceProvider.GetRequiredService<RehomeDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync();
            await db.Database.ExecuteSqlRawAsync("SELECT id FROM run_items FOR UPDATE");
            using var noWait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            Assert.Null(await host.WithTransitionsAsync(t => t.LeaseNextAsync(mappings[0], Guid.NewGuid(), Lease, noWait.Token)));
            await transaction.CommitAsync();
        }

        var leased = await host.WithTransitionsAsync(t => t.LeaseNextAsync(mappings[0], Guid.NewGuid(), Lease, CancellationToken.None));
        Assert.Equal(JobKind.RejoinDomain, leased!.Kind);
        Assert.Equal(4, (await JobsOfRunAsync(host, runId)).Count);
    }

    /// <summary>Waits until a statement starting with <paramref name="statement"/> waits on a lock, or the task ends first.</summary>
    private static async Task WaitForLockWaitAsync(ServerHost host, string statement, Task running)
    {
        await using var scope = host.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!running.IsCompleted)
        {
            var waiting = await db.Database.SqlQueryRaw<int>(
                "SELECT count(*)::int AS \"Value\" FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND ltrim(query) LIKE {0}",
                statement + "%").SingleAsync();
            if (waiting > 0)
            {
                return;
            }
            Assert.True(DateTime.UtcNow < deadline, $"No '{statement}' waited on a lock.");
            await Task.Delay(50);
        }
        await running;
        Assert.Fail($"It ended without waiting on a lock at '{statement}'.");
    }

    [Fact]
    public async Task The_stores_derived_jobs_view_is_the_one_the_code_derives()
    {
        await using var host = await ServerHost.StartAsync(StoreProvider.Sqlite);
        await using var scope = host.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var views = await db.Database.SqlQueryRaw<string>("SELECT sql AS \"Value\" FROM sqlite_master WHERE type = 'view' ORDER BY name").ToListAsync();
        var (derived, all, mappingStates) = CompactJobsSchema.ViewStatements(postgres: false);
        // A failure here means the jobs' or mappings' columns or a derivation changed without a migration that creates
        // the views again.
        Assert.Equal([all.TrimEnd(';'), derived.TrimEnd(';'), mappingStates.TrimEnd(';')], views);
    }

    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.PostgreSql)]
    public async Task Undoing_the_run_items_migration_keeps_the_derived_jobs_as_rows(StoreProvider provider)
    {
        await using var host = await ServerHost.StartAsync(provider);
        var (_, _, runId) = await RunAsync(host, 3);
        var before = await JobsOfRunAsync(host, runId);
        await using var scope = host.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var migrations = db.Database.GetMigrations().ToList();
        var runItems = migrations.FindIndex(m => m.EndsWith("_RunItems", StringComparison.Ordinal));

        await db.GetService<IMigrator>().MigrateAsync(migrations[runItems - 1]);

        // The store held this run's jobs only, all derived: each is a row now, none lost with the items.
        Assert.Equal(12, before.Count);
        Assert.Equal(12, await db.Database.SqlQueryRaw<int>("SELECT count(*) AS \"Value\" FROM jobs").SingleAsync());
    }
}
