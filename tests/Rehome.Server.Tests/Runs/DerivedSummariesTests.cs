using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Core.Runs;
using Rehome.Server.Runs;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Runs;

/// <summary>
/// A run does not write its mappings' summaries: while a mapping's newest run is a run item, the list shows the item's
/// first job through the mapping_states view, and the mapping's row is written when the item becomes rows. The list,
/// its filters and the store must show the same before and after, on both stores.
/// </summary>
public sealed class DerivedSummariesTests
{
    private static readonly string[] Kinds = ["RejoinDomain", "MigratePermissions", "RegisterAutopilot"];

    /// <summary>An Entra ID destination (no preparation: every mapping is one item), some mappings run, the others not.</summary>
    internal static async Task<(Guid Project, List<Guid> Run, List<Guid> Idle, JsonElement Answer)> RunAsync(
        ServerHost host, int run, int idle, object? extra = null, string prefix = "SUM-")
    {
        var project = await host.Client.CreateProjectAsync("EntraId", "Offline", sourceEntraId: true);
        var ids = await host.Client.ImportDevicesAsync(project, prefix, run + idle);
        var body = JsonSerializer.SerializeToElement(new { kinds = Kinds, mappingIds = ids[..run] }, ServerHost.Json);
        var merged = body.EnumerateObject().ToDictionary(p => p.Name, p => (object)p.Value);
        if (extra is not null)
        {
            foreach (var property in JsonSerializer.SerializeToElement(extra, ServerHost.Json).EnumerateObject())
            {
                merged[property.Name] = property.Value;
            }
        }
        var answer = await host.Client.PostJsonAsync($"/api/v1/projects/{project}/runs", merged);
        return (project, ids[..run], ids[run..], answer);
    }

    internal static async Task<List<Guid>> ListedAsync(ServerHost host, Guid project, string status)
    {
        var page = await host.Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?status={status}&pageSize=100");
        var ids = page.GetProperty("items").EnumerateArray().Select(i => i.Id()).ToList();
        Assert.Equal(ids.Count, page.GetProperty("total").GetInt32());
        return ids;
    }

    /// <summary>The summary columns of these mappings, through the view or from the table.</summary>
    internal static async Task<Dictionary<Guid, (JobKind? Stage, JobStatus? Status, Guid? Job, Guid? Run, int Done, int Total)>> SummariesAsync(
        ServerHost host, IEnumerable<Guid> mappings, bool stored)
    {
        await using var scope = host.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var ids = mappings.ToList();
        var rows = await (stored ? db.StoredMappings : db.Mappings).AsNoTracking().Where(m => ids.Contains(m.Id)).ToListAsync();
        return rows.ToDictionary(m => m.Id, m => (m.Stage, m.Status, m.LastJobId, m.LastRunId, m.ItemsDone, m.ItemsTotal));
    }

    internal static async Task<bool> ReadThroughViewAsync(ServerHost host, Guid project)
    {
        await using var scope = host.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        return (await db.MappingsOfAsync(project, default)).ToQueryString().Contains("mapping_states", StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.PostgreSql)]
    public async Task A_runs_mappings_show_its_first_job_from_the_item_and_then_the_same_from_their_rows(StoreProvider provider)
    {
        await using var host = await ServerHost.StartAsync(provider);
        var (project, run, idle, answer) = await RunAsync(host, 3, 2);
        var runId = answer.GetProperty("run").Id();

        // Nothing was written to the run's mappings: their rows still say never run.
        var stored = await SummariesAsync(host, run, stored: true);
        Assert.All(stored.Values, s => Assert.Equal((null, null, null, null), (s.Stage, s.Status, s.Job, s.Run)));
        // The list shows each one's rejoin, waiting to start, in this run; its filters find them by it.
        Assert.True(await ReadThroughViewAsync(host, project));
        Assert.Equal(run.Order(), (await ListedAsync(host, project, "WaitingToStart")).Order());
        Assert.Equal(idle.Order(), (await ListedAsync(host, project, "NotStarted")).Order());
        var stage = await host.Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?stage=RejoinDomain&sort=-stage&pageSize=100");
        Assert.Equal(3, stage.GetProperty("total").GetInt32());
        var shown = await SummariesAsync(host, run, stored: false);
        foreach (var mapping in run)
        {
            var job = await host.Client.GetJsonAsync($"/api/v1/jobs/{shown[mapping].Job}");
            Assert.Equal(("RejoinDomain", "WaitingToStart", mapping), (job.GetProperty("kind").GetString(), job.GetProperty("status").GetString(), job.GetProperty("mappingId").GetGuid()));
            Assert.Equal((JobKind.RejoinDomain, JobStatus.WaitingToStart, runId, 0, 0), (shown[mapping].Stage, shown[mapping].Status, shown[mapping].Run, shown[mapping].Done, shown[mapping].Total));
        }

        // The items become rows (as a lease or a stop makes them): the rows now say what the view said.
        await using (var scope = host.Scope())
        {
            // As every writer does: the rows, then the runs made latest, then the mappings refreshed.
            await using var transaction = await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Database.BeginTransactionAsync();
            var items = scope.ServiceProvider.GetRequiredService<RunItemStore>();
            Assert.Equal(9, await items.MaterialiseRunAsync(runId, default));
            var made = await items.MakeLatestAsync(default);
            Assert.Equal(run.Order(), made.Order());
            await scope.ServiceProvider.GetRequiredService<MappingSummaries>().RefreshManyAsync(made, host.Now, default);
            await transaction.CommitAsync();
        }
        Assert.Equal(shown, await SummariesAsync(host, run, stored: true));
        Assert.Equal(shown, await SummariesAsync(host, run, stored: false));
        Assert.False(await ReadThroughViewAsync(host, project));
        Assert.Equal(run.Order(), (await ListedAsync(host, project, "WaitingToStart")).Order());
    }

    /// <summary>The writers that make an item's jobs rows (a stop of a selection or a run, a lease) leave its mapping showing them.</summary>
    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.PostgreSql)]
    public async Task Stops_and_leases_of_run_items_leave_their_mappings_rows_showing_the_jobs(StoreProvider provider)
    {
        await using var host = await ServerHost.StartAsync(provider);
        var (_, run, _, answer) = await RunAsync(host, 4, 0);
        var runId = answer.GetProperty("run").Id();

        Assert.Equal((3, 0), await host.WithTransitionsAsync(t => t.StopMappingsAsync([run[0]], "test", default)));
        Assert.Single(await host.WithTransitionsAsync(t => t.LeaseNextManyAsync([new LeaseRequest(run[1], Guid.NewGuid())], TimeSpan.FromMinutes(5), default)));
        var stored = await SummariesAsync(host, run, stored: true);
        Assert.Equal((JobKind.RejoinDomain, JobStatus.Stopped, runId), (stored[run[0]].Stage, stored[run[0]].Status, stored[run[0]].Run));
        Assert.Equal((JobKind.RejoinDomain, JobStatus.InProgress, runId), (stored[run[1]].Stage, stored[run[1]].Status, stored[run[1]].Run));
        Assert.Null(stored[run[2]].Status);
        Assert.Equal(JobStatus.WaitingToStart, (await SummariesAsync(host, [run[2]], stored: false))[run[2]].Status);
        // One job of an item stopped: the item becomes rows, its rejoin stopped, the permissions waiting for it stopped
        // with it; its Autopilot (which waits for nothing) still waits, and shows first.
        var rejoin = (await SummariesAsync(host, [run[3]], stored: false))[run[3]].Job!.Value;
        Assert.Equal(StopEffect.StopNow, await host.WithTransitionsAsync(t => t.StopJobAsync(rejoin, "test", default)));
        var one = (await SummariesAsync(host, [run[3]], stored: true))[run[3]];
        Assert.Equal((JobKind.RegisterAutopilot, JobStatus.WaitingToStart, RunItems.JobId(RunItems.ItemOf(rejoin), JobKind.RegisterAutopilot), runId),
            (one.Stage, one.Status, one.Job, one.Run));

        // The last item's three jobs, the leased mapping's two waiting ones and the stopped rejoin's Autopilot (which did
        // not wait for it) stop now; the leased rejoin is asked to.
        Assert.Equal((6, 1), await host.WithTransitionsAsync(t => t.StopRunAsync(runId, "test", default)));
        stored = await SummariesAsync(host, run, stored: true);
        Assert.Equal((JobStatus.Stopped, runId), (stored[run[2]].Status, stored[run[2]].Run));
        Assert.Equal(JobStatus.InProgress, stored[run[1]].Status);
        Assert.Equal(stored, await SummariesAsync(host, run, stored: false));
    }

    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.PostgreSql)]
    public async Task A_scheduled_runs_mappings_show_scheduled_until_it_is_released_and_a_dry_run_shows_nothing(StoreProvider provider)
    {
        await using var host = await ServerHost.StartAsync(provider);
        var (project, run, _, _) = await RunAsync(host, 2, 0, new { startAt = host.Now.AddHours(1) });
        Assert.Equal(run.Order(), (await ListedAsync(host, project, "Scheduled")).Order());

        host.Time.Advance(TimeSpan.FromHours(1));
        await using (var scope = host.Scope())
        {
            Assert.Equal(1, await scope.ServiceProvider.GetRequiredService<JobTransitions>().ReleaseDueRunsAsync(default));
        }
        Assert.Equal(run.Order(), (await ListedAsync(host, project, "WaitingToStart")).Order());
        Assert.Empty(await ListedAsync(host, project, "Scheduled"));

        var (dryProject, dry, _, _) = await RunAsync(host, 2, 0, new { dryRun = true, kinds = new[] { "MigratePermissions" } }, prefix: "DRY-");
        await using (var scope = host.Scope())
        {
            Assert.Equal(2, await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().RunItems.CountAsync(i => i.ProjectId == dryProject && i.DryRun));
        }
        Assert.Equal(dry.Order(), (await ListedAsync(host, dryProject, "NotStarted")).Order());
        Assert.False(await ReadThroughViewAsync(host, dryProject));
    }

    /// <summary>
    /// The view against the rule it was generated from, for every kinds value an item can hold and both flags; and
    /// which item a mapping shows: the newest, not a dry run, and only when newer than the run its row shows.
    /// </summary>
    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.PostgreSql)]
    public async Task The_view_shows_each_items_first_job_by_the_rule_and_only_the_newest_item_newer_than_the_row(StoreProvider provider)
    {
        await using var host = await ServerHost.StartAsync(provider);
        var project = await host.Client.CreateProjectAsync("EntraId", "Offline", sourceEntraId: true);
        var every = RunItems.AllKinds().SelectMany(k => new[] { (Kinds: k, Scheduled: false), (Kinds: k, Scheduled: true) }).ToList();
        var mappings = await host.Client.ImportDevicesAsync(project, "RULE-", every.Count + 4);
        var start = host.Now;
        var items = every.Select((e, i) => Item(project, mappings[i], Guid.CreateVersion7(start), e.Kinds, e.Scheduled, dryRun: false, start)).ToList();
        // Four more mappings: two items (the newer shows); a dry-run item only (nothing shows); an item older than the
        // run the row shows (the row shows); an item newer than it (the item shows).
        var (twice, dryOnly, older, newer) = (mappings[^4], mappings[^3], mappings[^2], mappings[^1]);
        var (early, late) = (Guid.CreateVersion7(start.AddSeconds(-10)), Guid.CreateVersion7(start.AddSeconds(10)));
        items.Add(Item(project, twice, early, 2, false, false, start));
        items.Add(Item(project, twice, late, 16, true, false, start));
        items.Add(Item(project, dryOnly, late, 2, false, true, start));
        items.Add(Item(project, older, early, 2, false, false, start));
        items.Add(Item(project, newer, late, 2, false, false, start));
        await using (var scope = host.Scope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
            db.RunItems.AddRange(items);
            await db.SaveChangesAsync();
            var row = Guid.CreateVersion7(start);
            await db.Mappings.Where(m => m.Id == older || m.Id == newer).ExecuteUpdateAsync(s => s
                .SetProperty(m => m.LastRunId, row).SetProperty(m => m.Status, JobStatus.Finished).SetProperty(m => m.Stage, JobKind.MigrateEntraIdGroups));
        }

        var shown = await SummariesAsync(host, mappings, stored: false);
        foreach (var item in items.Take(every.Count))
        {
            var (kind, status) = RunItems.Shown(item.Kinds, item.Scheduled);
            Assert.Equal((kind, status, RunItems.JobId(item.Id, kind), item.RunId, 0, 0), shown[item.MappingId]);
        }
        Assert.Equal((JobKind.MigrateEntraIdGroups, JobStatus.Scheduled, late), (shown[twice].Stage, shown[twice].Status, shown[twice].Run));
        Assert.Equal((null, null, null), (shown[dryOnly].Stage, shown[dryOnly].Status, shown[dryOnly].Run));
        Assert.Equal((JobKind.MigrateEntraIdGroups, JobStatus.Finished), (shown[older].Stage, shown[older].Status));
        Assert.Equal((JobKind.RejoinDomain, JobStatus.WaitingToStart, late), (shown[newer].Stage, shown[newer].Status, shown[newer].Run));
    }

    /// <summary>A run's counts by kind and status (its status page) are the all_jobs view's, items, rows and scheduled alike.</summary>
    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.PostgreSql)]
    public async Task A_runs_counts_by_kind_and_status_are_those_of_its_jobs_rows_or_derived(StoreProvider provider)
    {
        await using var host = await ServerHost.StartAsync(provider);
        var (_, run, _, answer) = await RunAsync(host, 4, 0);
        var runId = answer.GetProperty("run").Id();
        var (_, _, _, scheduled) = await RunAsync(host, 2, 0, new { startAt = host.Now.AddHours(1) }, prefix: "LATER-");
        // One mapping leased (its item made rows), one stopped; two still items.
        Assert.Single(await host.WithTransitionsAsync(t => t.LeaseNextManyAsync([new LeaseRequest(run[0], Guid.NewGuid())], TimeSpan.FromMinutes(5), default)));
        Assert.Equal((3, 0), await host.WithTransitionsAsync(t => t.StopMappingsAsync([run[1]], "test", default)));

        foreach (var id in new[] { runId, scheduled.GetProperty("run").Id() })
        {
            await using var scope = host.Scope();
            var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
            var expected = (await db.Jobs.AsNoTracking().Where(j => j.RunId == id).GroupBy(j => new { j.Kind, j.Status })
                .Select(g => new { g.Key.Kind, g.Key.Status, Count = g.Count() }).ToListAsync())
                .Select(c => (c.Kind, c.Status, c.Count)).Order().ToList();
            Assert.Equal(expected, (await RunJobCounts.OfRunAsync(scope.ServiceProvider.GetRequiredService<StoreCommands>(), id, default)).Order().ToList());
            Assert.True(expected.Count >= 2);
            var status = await host.Client.GetJsonAsync($"/api/v1/runs/{id}");
            Assert.Equal(expected.Sum(c => c.Count), status.GetProperty("jobsByKindAndStatus").EnumerateObject().Sum(k => k.Value.EnumerateObject().Sum(s => s.Value.GetInt32())));
        }
    }

    /// <summary>
    /// PostgreSQL plans the list through mapping_states from its statistics of run_items, which autovacuum renews only
    /// a while after a large run (a first page of 100 took 260 ms instead of 0.6 until then, in bench/Rehome.Bench).
    /// </summary>
    [Fact]
    public async Task A_large_run_renews_the_statistics_of_the_run_items_soon_after_its_commit()
    {
        await using var host = await ServerHost.StartAsync(StoreProvider.PostgreSql);
        host.App.Services.GetRequiredService<StoreStatistics>().RenewAfterItems = 3;
        async Task<DateTime> LastAnalyzeAsync()
        {
            await using var scope = host.Scope();
            return await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Database.SqlQueryRaw<DateTime>(
                "SELECT coalesce(last_analyze, 'epoch') AS \"Value\" FROM pg_stat_user_tables WHERE relname = 'run_items'").SingleAsync();
        }
        var before = await LastAnalyzeAsync();
        await RunAsync(host, 2, 0, prefix: "FEW-");
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(before, await LastAnalyzeAsync());

        await RunAsync(host, 3, 0);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await LastAnalyzeAsync() <= before)
        {
            Assert.True(DateTime.UtcNow < deadline, "run_items was not analyzed after a run of three items (the threshold).");
            await Task.Delay(100);
        }
    }

    private static RunItem Item(Guid project, Guid mapping, Guid run, int kinds, bool scheduled, bool dryRun, DateTimeOffset at) => new()
    {
        // An item's id ends in a zero byte (its jobs' ids put their kind there).
        Id = RunItems.ItemOf(Guid.CreateVersion7(at)),
        RunId = run,
        ProjectId = project,
        MappingId = mapping,
        Kinds = kinds,
        Scheduled = scheduled,
        DryRun = dryRun,
        CreatedAt = at,
    };
}
