using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Core.Runs;
using Rehome.Server.Runs;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Runs;

/// <summary>Stopping the jobs of a selection of thousands of mappings in one request (POST /projects/{id}/jobs/stop); on SQLite and PostgreSQL.</summary>
public abstract class StopSelectionSuite(ServerHost host)
{
    private HttpClient Client => host.Client;

    private static string Prefix() => "S" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();

    /// <summary>A project whose run waits on its destination: every mapping gets a rejoin (waiting for destination) and a permissions job (waiting for it).</summary>
    private async Task<Guid> ProjectWithRunAsync(string prefix, int count, string? otherPrefix = null, int otherCount = 0)
    {
        var project = await Client.CreateProjectAsync("ActiveDirectory", "Offline");
        await Client.ImportDevicesAsync(project, prefix, count);
        if (otherPrefix is not null)
        {
            await Client.ImportDevicesAsync(project, otherPrefix, otherCount);
        }
        await Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain", "MigratePermissions" }, filter = new { } });
        return project;
    }

    /// <summary>Puts one mapping's rejoin in progress, as an agent's lease would.</summary>
    private async Task<Job> LeaseOneAsync(Guid project, string device)
    {
        await using var scope = host.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var mapping = await db.Mappings.AsNoTracking().Where(m => m.ProjectId == project && m.SourceDevice == device).Select(m => m.Id).SingleAsync();
        var rejoin = await db.Jobs.AsNoTracking().Where(j => j.MappingId == mapping && j.Kind == JobKind.RejoinDomain).Select(j => j.Id).SingleAsync();
        var transitions = scope.ServiceProvider.GetRequiredService<JobTransitions>();
        Assert.True(await transitions.DestinationPreparedAsync(rejoin, null, null, CancellationToken.None));
        return (await transitions.LeaseNextAsync(mapping, Guid.NewGuid(), TimeSpan.FromMinutes(5), CancellationToken.None))!;
    }

    private async Task<List<Job>> JobsAsync(Guid project)
    {
        await using var scope = host.Scope();
        return await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Jobs.AsNoTracking().Where(j => j.ProjectId == project).ToListAsync();
    }

    private async Task<List<Guid>> MappingIdsAsync(Guid project, string prefix)
    {
        await using var scope = host.Scope();
        return await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Mappings.AsNoTracking()
            .Where(m => m.ProjectId == project && m.SourceDevice.StartsWith(prefix)).Select(m => m.Id).ToListAsync();
    }

    private async Task<int> AuditCountAsync(Guid project)
    {
        await using var scope = host.Scope();
        var target = $"project:{project}";
        return await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().AuditLog.AsNoTracking().CountAsync(a => a.Action == "jobs.stop" && a.Target == target);
    }

    private async Task<JsonElement> StopAsync(Guid project, object body, HttpStatusCode expected = HttpStatusCode.OK) =>
        await Client.PostJsonAsync($"/api/v1/projects/{project}/jobs/stop", body, expected);

    [Fact]
    public async Task Stopping_all_matching_a_filter_stops_thousands_of_waiting_jobs_asks_the_running_one_and_leaves_the_rest()
    {
        var (prefix, other) = (Prefix(), Prefix());
        var project = await ProjectWithRunAsync(prefix, 2_500, other, 20);
        var running = await LeaseOneAsync(project, prefix + "0001");

        var stop = await StopAsync(project, new { filter = new { search = prefix } });

        var jobs = await JobsAsync(project);
        var selected = (await MappingIdsAsync(project, prefix)).ToHashSet();
        Assert.Equal(jobs.Count(j => selected.Contains(j.MappingId) && j.Status == JobStatus.Stopped), stop.GetProperty("stoppedNow").GetInt32());
        Assert.Equal(2 * 2_500 - 1, stop.GetProperty("stoppedNow").GetInt32());
        Assert.Equal(1, stop.GetProperty("stopRequested").GetInt32());
        var stillRunning = Assert.Single(jobs, j => j.Status == JobStatus.InProgress);
        Assert.Equal(running.Id, stillRunning.Id);
        Assert.True(stillRunning.StopRequested);
        Assert.All(jobs.Where(j => j.Status == JobStatus.Stopped), j => Assert.Equal(JobErrorCodes.StoppedByAdministrator, j.ErrorCode));
        // The mappings not matching keep their waiting jobs.
        Assert.Equal(2 * 20, jobs.Count(j => !selected.Contains(j.MappingId) && j.Status.IsActive()));
        // The grid's summaries moved in the same transaction.
        var stoppedRows = await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?status=Stopped&search={prefix}&pageSize=1");
        Assert.Equal(2_500 - 1, stoppedRows.GetProperty("total").GetInt32());
        Assert.Equal(1, await AuditCountAsync(project));
    }

    [Fact]
    public async Task Stopping_thousands_of_explicit_mappings_stops_exactly_theirs_and_passes_over_ids_of_another_project()
    {
        var prefix = Prefix();
        var project = await ProjectWithRunAsync(prefix, 3_000);
        var ids = await MappingIdsAsync(project, prefix);
        var chosen = ids.Take(2_200).ToList();
        var elsewhere = await ProjectWithRunAsync(Prefix(), 3);
        var foreign = (await JobsAsync(elsewhere)).Select(j => j.MappingId).Distinct().ToList();

        var stop = await StopAsync(project, new { mappingIds = chosen.Concat(foreign).Concat(chosen.Take(5)) });

        var jobs = await JobsAsync(project);
        var wanted = chosen.ToHashSet();
        Assert.Equal(2 * 2_200, stop.GetProperty("stoppedNow").GetInt32());
        Assert.Equal(0, stop.GetProperty("stopRequested").GetInt32());
        Assert.All(jobs, j => Assert.Equal(wanted.Contains(j.MappingId) ? JobStatus.Stopped : j.Status, j.Status));
        Assert.Equal(2 * 800, jobs.Count(j => j.Status.IsActive()));
        Assert.All(await JobsAsync(elsewhere), j => Assert.True(j.Status.IsActive()));

        // Asked again, nothing is left to stop: zeros, not an error.
        var again = await StopAsync(project, new { mappingIds = chosen });
        Assert.Equal(0, again.GetProperty("stoppedNow").GetInt32());
        Assert.Equal(2, await AuditCountAsync(project));
    }

    [Theory]
    [InlineData("both", "filter", "SelectionAmbiguous")]
    [InlineData("neither", "mappingIds", "Required")]
    [InlineData("bad status", "filter.status", "Filter")]
    [InlineData("long search", "filter.search", "MaxLength")]
    public async Task A_bad_selection_is_refused_naming_its_field_and_stops_nothing(string selection, string field, string rule)
    {
        var prefix = Prefix();
        var project = await ProjectWithRunAsync(prefix, 2);
        var ids = await MappingIdsAsync(project, prefix);
        object body = selection switch
        {
            "both" => new { mappingIds = ids, filter = new { } },
            "neither" => new { },
            "bad status" => new { filter = new { status = "Sleeping<script>" } },
            _ => new { filter = new { search = new string('x', 10_000) } },
        };

        var problem = await StopAsync(project, body, HttpStatusCode.BadRequest);

        Assert.Contains(problem.GetProperty("errors").EnumerateArray(), e => e.GetProperty("field").GetString() == field && e.GetProperty("rule").GetString() == rule);
        Assert.All(await JobsAsync(project), j => Assert.True(j.Status.IsActive()));
        Assert.Equal(0, await AuditCountAsync(project));
    }

    [Fact]
    public async Task Stopping_in_a_project_that_does_not_exist_is_not_found()
    {
        var problem = await StopAsync(Guid.NewGuid(), new { filter = new { } }, HttpStatusCode.NotFound);
        Assert.Equal("NotFound", problem.GetProperty("rule").GetString());
    }
}

public sealed class StopSelectionOnSqlite(SqliteServer server) : StopSelectionSuite(server.Host), IClassFixture<SqliteServer>;

public sealed class StopSelectionOnPostgres(PostgresServer server) : StopSelectionSuite(server.Host), IClassFixture<PostgresServer>;
