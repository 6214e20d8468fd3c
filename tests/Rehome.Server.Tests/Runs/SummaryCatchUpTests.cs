using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Rehome.Core.Runs;
using Rehome.Server.Runs;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;
using static Rehome.Server.Tests.Runs.DerivedSummariesTests;

namespace Rehome.Server.Tests.Runs;

/// <summary>
/// After a run accepted as run items commits, the run engine writes its mappings' rows to show what mapping_states
/// showed (SummaryCatchUp), and the project's reads use the table again; the rows then follow the jobs as any others.
/// </summary>
public sealed class SummaryCatchUpTests
{
    private static async Task<int> CatchUpAsync(ServerHost host)
    {
        await using var scope = host.Scope();
        return await scope.ServiceProvider.GetRequiredService<SummaryCatchUp>().CatchUpAsync(TimeSpan.MaxValue, default);
    }

    private static async Task<DateTimeOffset?> ShownAtAsync(ServerHost host, Guid runId)
    {
        await using var scope = host.Scope();
        return await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Runs.Where(r => r.Id == runId).Select(r => r.MappingsShownAt).SingleAsync();
    }

    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.PostgreSql)]
    public async Task The_engine_writes_a_runs_mappings_rows_as_the_view_shows_them_and_the_list_reads_the_table_again(StoreProvider provider)
    {
        await using var host = await ServerHost.StartAsync(provider);
        var (project, run, idle, answer) = await RunAsync(host, 3, 2);
        var runId = answer.GetProperty("run").Id();
        var shown = await SummariesAsync(host, run, stored: false);
        Assert.Null(await ShownAtAsync(host, runId));
        Assert.True(await ReadThroughViewAsync(host, project));

        // The engine's tick does it (as it does on every replica every second).
        await using (var scope = host.Scope())
        {
            await scope.ServiceProvider.GetRequiredService<RunEngineService>().TickAsync(default);
        }
        Assert.Equal(shown, await SummariesAsync(host, run, stored: true));
        Assert.Equal(host.Now, await ShownAtAsync(host, runId));
        Assert.False(await ReadThroughViewAsync(host, project));
        Assert.Equal(run.Order(), (await ListedAsync(host, project, "WaitingToStart")).Order());
        Assert.Equal(idle.Order(), (await ListedAsync(host, project, "NotStarted")).Order());
        // The items still wait; the rows follow their jobs from now on, as any row does.
        Assert.Equal(0, await CatchUpAsync(host));
        Assert.Single(await host.WithTransitionsAsync(t => t.LeaseNextManyAsync([new LeaseRequest(run[0], Guid.NewGuid())], TimeSpan.FromMinutes(5), default)));
        Assert.Equal((3, 0), await host.WithTransitionsAsync(t => t.StopMappingsAsync([run[1]], "test", default)));
        var stored = await SummariesAsync(host, run, stored: true);
        Assert.Equal((JobKind.RejoinDomain, JobStatus.InProgress, runId), (stored[run[0]].Stage, stored[run[0]].Status, stored[run[0]].Run));
        Assert.Equal((JobKind.RejoinDomain, JobStatus.Stopped, runId), (stored[run[1]].Stage, stored[run[1]].Status, stored[run[1]].Run));
        Assert.Equal(shown[run[2]], stored[run[2]]);
        Assert.Equal(stored, await SummariesAsync(host, run, stored: false));
    }

    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.PostgreSql)]
    public async Task A_scheduled_runs_rows_say_scheduled_until_its_release_and_a_dry_run_is_shown_at_once(StoreProvider provider)
    {
        await using var host = await ServerHost.StartAsync(provider);
        var (project, run, _, answer) = await RunAsync(host, 2, 0, new { startAt = host.Now.AddHours(1) });
        Assert.Equal(2, await CatchUpAsync(host));
        Assert.All((await SummariesAsync(host, run, stored: true)).Values, s => Assert.Equal(JobStatus.Scheduled, s.Status));
        Assert.False(await ReadThroughViewAsync(host, project));

        host.Time.Advance(TimeSpan.FromHours(1));
        await using (var scope = host.Scope())
        {
            Assert.Equal(1, await scope.ServiceProvider.GetRequiredService<JobTransitions>().ReleaseDueRunsAsync(default));
        }
        Assert.All((await SummariesAsync(host, run, stored: true)).Values, s => Assert.Equal(JobStatus.WaitingToStart, s.Status));
        Assert.Equal(run.Order(), (await ListedAsync(host, project, "WaitingToStart")).Order());

        var (_, _, _, dry) = await RunAsync(host, 2, 0, new { dryRun = true, kinds = new[] { "MigratePermissions" } }, prefix: "DRY-");
        Assert.NotNull(await ShownAtAsync(host, dry.GetProperty("run").Id()));
        Assert.Equal(0, await CatchUpAsync(host));
        Assert.NotNull(await ShownAtAsync(host, answer.GetProperty("run").Id()));
    }

    /// <summary>A mapping in two runs not yet shown: the older run's catch-up leaves it to the newer, which it shows.</summary>
    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.PostgreSql)]
    public async Task A_mapping_of_two_runs_shows_the_newer_whichever_is_written_first(StoreProvider provider)
    {
        await using var host = await ServerHost.StartAsync(provider);
        var (project, run, _, first) = await RunAsync(host, 3, 0);
        host.Time.Advance(TimeSpan.FromSeconds(1));
        var second = await host.Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "MigrateEntraIdGroups" }, mappingIds = run[..1] });
        var shown = await SummariesAsync(host, run, stored: false);
        Assert.Equal((JobKind.MigrateEntraIdGroups, second.GetProperty("run").Id()), (shown[run[0]].Stage, shown[run[0]].Run));

        Assert.Equal(3, await CatchUpAsync(host));
        Assert.Equal(shown, await SummariesAsync(host, run, stored: true));
        Assert.NotNull(await ShownAtAsync(host, first.GetProperty("run").Id()));
        Assert.NotNull(await ShownAtAsync(host, second.GetProperty("run").Id()));
    }

    /// <summary>
    /// PostgreSQL: a mapping row another transaction holds (a lease claim, a stop) is never waited for: the others are
    /// written, the run stays to catch up, and a later tick writes the row once it is free.
    /// </summary>
    [Fact]
    public async Task A_row_held_by_another_transaction_is_left_and_written_at_a_later_tick()
    {
        await using var host = await ServerHost.StartAsync(StoreProvider.PostgreSql);
        var (project, run, _, answer) = await RunAsync(host, 3, 0);
        var runId = answer.GetProperty("run").Id();
        string connection;
        await using (var scope = host.Scope())
        {
            connection = scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Database.GetConnectionString()!;
        }
        await using (var other = new NpgsqlConnection(connection))
        {
            await other.OpenAsync();
            await using var holding = await other.BeginTransactionAsync();
            await using (var command = new NpgsqlCommand("SELECT 1 FROM mappings WHERE id = @id FOR UPDATE", other, holding))
            {
                command.Parameters.AddWithValue("id", run[1]);
                await command.ExecuteNonQueryAsync();
            }
            Assert.Equal(2, await CatchUpAsync(host));
            Assert.Null(await ShownAtAsync(host, runId));
            Assert.True(await ReadThroughViewAsync(host, project));
            Assert.Null((await SummariesAsync(host, [run[1]], stored: true))[run[1]].Status);
            await holding.CommitAsync();
        }
        Assert.Equal(1, await CatchUpAsync(host));
        Assert.NotNull(await ShownAtAsync(host, runId));
        Assert.Equal(await SummariesAsync(host, run, stored: false), await SummariesAsync(host, run, stored: true));
    }
}
