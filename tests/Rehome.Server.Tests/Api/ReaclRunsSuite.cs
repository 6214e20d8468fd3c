using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Core.Runs;
using Rehome.Protocol;
using Rehome.Server.Gateway;
using Rehome.Server.Runs;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Api;

/// <summary>
/// Issue 13 on the server: a dry run (preview) of permissions and profile, the per-area counts agents report, and
/// the revert of a finished job; on SQLite and PostgreSQL.
/// </summary>
public abstract class ReaclRunsSuite(ServerHost host)
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    private HttpClient Client => host.Client;

    private static string Prefix() => "Q" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();

    private Task<Job> RunNextAsync(Guid mapping, JobStatus status) => host.EndNextJobAsync(mapping, status);

    private async Task<JobAssignment> AssignmentOfAsync(Job leased)
    {
        await using var scope = host.Scope();
        return await scope.ServiceProvider.GetRequiredService<AssignmentBuilder>().BuildAsync(leased, CancellationToken.None);
    }

    /// <summary>A mapping whose rejoin and permissions jobs ended as asked; returns the mapping and the permissions job.</summary>
    private async Task<(Guid Mapping, Guid Permissions)> MigratedAsync(JobStatus permissions = JobStatus.Finished)
    {
        var project = await Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 1);
        await Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain", "MigratePermissions" }, mappingIds = ids });
        await RunNextAsync(ids[0], JobStatus.Finished);
        var job = await RunNextAsync(ids[0], permissions);
        Assert.Equal(JobKind.MigratePermissions, job.Kind);
        return (ids[0], job.Id);
    }

    private async Task<JsonElement> RevertAsync(Guid job, HttpStatusCode expected = HttpStatusCode.Created) =>
        await Client.PostJsonAsync($"/api/v1/jobs/{job}/revert", new { }, expected);

    [Fact]
    public async Task A_dry_run_of_a_rejoin_is_refused_naming_dryRun_and_starts_nothing()
    {
        var project = await Client.CreateProjectAsync();
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 1);

        var problem = await Client.PostJsonAsync($"/api/v1/projects/{project}/runs",
            new { kinds = new[] { "RejoinDomain", "MigratePermissions" }, mappingIds = ids, dryRun = true }, HttpStatusCode.BadRequest);

        Assert.Equal(RunRules.DryRunNotSupported, problem.GetProperty("rule").GetString());
        Assert.Equal("dryRun", problem.GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.Equal(0, (await Client.GetJsonAsync($"/api/v1/projects/{project}/runs")).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task A_dry_run_needs_no_rejoin_and_leaves_the_mappings_status_and_rejoin_as_they_were()
    {
        var project = await Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 2);

        var started = await Client.PostJsonAsync($"/api/v1/projects/{project}/runs",
            new { kinds = new[] { "MigratePermissions", "MigrateUserProfile" }, mappingIds = ids, dryRun = true });

        Assert.Equal(4, started.GetProperty("jobCount").GetInt32());
        Assert.True(started.GetProperty("run").GetProperty("dryRun").GetBoolean());
        var report = await Client.GetJsonAsync($"/api/v1/mappings/{ids[0]}/report");
        Assert.True(report.GetProperty("runs")[0].GetProperty("dryRun").GetBoolean());
        Assert.All(report.GetProperty("runs")[0].GetProperty("jobs").EnumerateArray(), j =>
        {
            Assert.True(j.GetProperty("dryRun").GetBoolean());
            Assert.Equal("WaitingToStart", j.GetProperty("status").GetString());
        });
        // Finished previews are no migration: the mapping shows no stage, no status, no rejoin.
        await RunNextAsync(ids[0], JobStatus.Finished);
        await RunNextAsync(ids[0], JobStatus.Finished);
        var mapping = await Client.GetJsonAsync($"/api/v1/mappings/{ids[0]}");
        Assert.Equal(JsonValueKind.Null, mapping.GetProperty("stage").ValueKind);
        Assert.Equal(JsonValueKind.Null, mapping.GetProperty("status").ValueKind);
        Assert.Equal(JsonValueKind.Null, mapping.GetProperty("rejoinedAt").ValueKind);
        Assert.Equal(2, (await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?status=NotStarted")).GetProperty("total").GetInt32());
        // ...and the real migration still needs its rejoin.
        var real = await Client.PostJsonAsync($"/api/v1/projects/{project}/runs",
            new { kinds = new[] { "MigratePermissions" }, mappingIds = ids }, HttpStatusCode.UnprocessableEntity);
        Assert.Equal(RunRules.RejoinRequired, real.GetProperty("refusals")[0].GetProperty("rule").GetString());
    }

    [Fact]
    public async Task A_dry_run_job_reaches_its_device_as_a_dry_run_and_its_area_counts_show_as_what_would_change()
    {
        var project = await Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 1);
        await Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "MigratePermissions" }, mappingIds = ids, dryRun = true });
        var leased = await host.WithTransitionsAsync(t => t.LeaseNextAsync(ids[0], Guid.NewGuid(), Lease, CancellationToken.None));

        var assignment = await AssignmentOfAsync(leased!);
        await host.WithTransitionsAsync(t => t.RenewAsync(leased!.Id, leased.LeaseOwner!.Value, leased.LeaseToken!.Value, Lease,
            new JobProgress(5, 10, 0, 0, "TranslateDescriptors", Areas: [new JobAreaCount("Files", 5, 2, 0)]), CancellationToken.None));
        var running = await Client.GetJsonAsync($"/api/v1/jobs/{leased!.Id}");
        await host.WithTransitionsAsync(t => t.CompleteAsync(leased.Id, leased.LeaseOwner!.Value, leased.LeaseToken!.Value, new JobCompletion(JobStatus.Finished,
            new JobProgress(10, 10, 0, 0, Areas:
            [
                new JobAreaCount("Files", 10, 4, 0),
                new JobAreaCount("Printers", 0, 0, 0, "this device's agent cannot migrate it"),
            ]), null, null), CancellationToken.None));

        Assert.True(assignment.DryRun);
        Assert.Null(assignment.RevertOf);
        Assert.Equal("Files: 5 seen, 2 would change, 0 failed", running.GetProperty("areas")[0].GetProperty("summary").GetString());
        var job = (await Client.GetJsonAsync($"/api/v1/mappings/{ids[0]}/report")).GetProperty("runs")[0].GetProperty("jobs")[0];
        var areas = job.GetProperty("areas").EnumerateArray().ToList();
        Assert.Equal(["Files", "Printers"], areas.Select(a => a.GetProperty("area").GetString()));
        Assert.Equal(4, areas[0].GetProperty("changed").GetInt32());
        Assert.Equal("Files: 10 seen, 4 would change, 0 failed", areas[0].GetProperty("summary").GetString());
        Assert.Equal("Printers: not done — this device's agent cannot migrate it", areas[1].GetProperty("summary").GetString());
        Assert.Equal("dry run (changed nothing)", job.GetProperty("note").GetString());
    }

    [Fact]
    public async Task The_assignment_carries_the_policy_area_kinds_minus_those_to_ignore()
    {
        using var device = await host.EnrollDeviceAsync(AgentWorld.EntraDestination(), policy: new
        {
            areas = new { fileSystemPaths = new[] { @"C:\Data" }, registryKeys = Array.Empty<string>(), kinds = "Shares, Services, Printers, ScheduledTasks, UserHives" },
            areasToIgnore = new { fileSystemPaths = Array.Empty<string>(), registryKeys = Array.Empty<string>(), kinds = "Printers" },
        });
        await Client.PostJsonAsync($"/api/v1/projects/{device.ProjectId}/runs",
            new { kinds = new[] { "MigratePermissions" }, mappingIds = new[] { device.MappingId }, dryRun = true });

        var response = await device.Agent.PostAsync(new Uri("/agent/v1/poll?wait=0", UriKind.Relative), null);
        var assignment = (await response.Content.ReadFromJsonAsync<JobAssignment>(AgentProtocol.JsonOptions))!;

        Assert.Equal(DeviceAreas.Shares | DeviceAreas.Services | DeviceAreas.ScheduledTasks | DeviceAreas.UserHives, assignment.Policy.Areas);
        Assert.True(assignment.DryRun);
    }

    [Fact]
    public async Task A_finished_permissions_job_is_reverted_by_one_new_job_that_its_device_gets_with_revert_of()
    {
        var (mapping, permissions) = await MigratedAsync(JobStatus.Exceptions);

        var revert = await RevertAsync(permissions);

        Assert.Equal(1, revert.GetProperty("jobCount").GetInt32());
        Assert.False(revert.GetProperty("run").GetProperty("dryRun").GetBoolean());
        var original = await Client.GetJsonAsync($"/api/v1/jobs/{permissions}");
        var revertJob = original.GetProperty("revertedBy").GetGuid();
        Assert.Equal($"reverted by job {revertJob}", original.GetProperty("note").GetString());
        var view = await Client.GetJsonAsync($"/api/v1/jobs/{revertJob}");
        Assert.Equal(permissions, view.GetProperty("revertOf").GetGuid());
        Assert.Equal("MigratePermissions", view.GetProperty("kind").GetString());
        Assert.Equal("WaitingToStart", view.GetProperty("status").GetString());
        var leased = await host.WithTransitionsAsync(t => t.LeaseNextAsync(mapping, Guid.NewGuid(), Lease, CancellationToken.None));
        Assert.Equal(revertJob, leased!.Id);
        var assignment = await AssignmentOfAsync(leased);
        Assert.Equal(permissions, assignment.RevertOf);
        Assert.False(assignment.DryRun);
        var audit = await Client.GetJsonAsync("/api/v1/audit?action=job.revert&pageSize=200");
        Assert.Contains(audit.GetProperty("items").EnumerateArray(), e => e.GetProperty("target").GetString() == $"job:{permissions}");
    }

    [Fact]
    public async Task A_second_revert_is_refused_while_the_first_runs_and_after_it_finished_but_allowed_after_it_failed()
    {
        var (mapping, permissions) = await MigratedAsync();
        await RevertAsync(permissions);

        var underway = await RevertAsync(permissions, HttpStatusCode.Conflict);
        await RunNextAsync(mapping, JobStatus.Failed);
        var again = await RevertAsync(permissions);
        var revertJob = (await Client.GetJsonAsync($"/api/v1/jobs/{permissions}")).GetProperty("revertedBy").GetGuid();
        await RunNextAsync(mapping, JobStatus.Finished);
        var done = await RevertAsync(permissions, HttpStatusCode.Conflict);
        var ofRevert = await RevertAsync(revertJob, HttpStatusCode.Conflict);
        var rerunOfRevert = await Client.PostJsonAsync($"/api/v1/jobs/{revertJob}/rerun", new { }, HttpStatusCode.Conflict);

        Assert.Equal(RevertRules.RevertUnderway, underway.GetProperty("rule").GetString());
        Assert.Equal(1, again.GetProperty("jobCount").GetInt32());
        Assert.Equal(RevertRules.AlreadyReverted, done.GetProperty("rule").GetString());
        Assert.Equal(RevertRules.JobIsARevert, ofRevert.GetProperty("rule").GetString());
        Assert.Equal("RevertNotRerunnable", rerunOfRevert.GetProperty("rule").GetString());
    }

    [Theory]
    [InlineData(JobStatus.Stopped)]
    [InlineData(JobStatus.Failed)]
    public async Task A_stopped_or_failed_permissions_job_may_be_reverted_since_it_may_have_changed_acls_before_it_ended(JobStatus status)
    {
        var (_, permissions) = await MigratedAsync(status);

        var revert = await RevertAsync(permissions);

        Assert.Equal(1, revert.GetProperty("jobCount").GetInt32());
    }

    [Fact]
    public async Task A_revert_of_an_older_job_is_refused_while_a_later_one_of_its_kind_is_not_reverted_or_any_job_of_the_mapping_is_active()
    {
        var (mapping, first) = await MigratedAsync();
        var project = (await Client.GetJsonAsync($"/api/v1/mappings/{mapping}")).GetProperty("projectId").GetGuid();
        host.Time.Advance(TimeSpan.FromSeconds(1));
        await Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "MigratePermissions" }, mappingIds = new[] { mapping } });
        var second = await RunNextAsync(mapping, JobStatus.Exceptions);
        await Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "MigrateUserProfile" }, mappingIds = new[] { mapping }, dryRun = true });

        var older = await RevertAsync(first, HttpStatusCode.Conflict);
        var whileActive = await RevertAsync(second.Id, HttpStatusCode.Conflict);
        await RunNextAsync(mapping, JobStatus.Finished);
        await RevertAsync(second.Id);
        var whileLaterReverting = await RevertAsync(first, HttpStatusCode.Conflict);
        await RunNextAsync(mapping, JobStatus.Finished);
        var afterLaterReverted = await RevertAsync(first);

        Assert.Equal(RevertRules.LaterJobNotReverted, older.GetProperty("rule").GetString());
        Assert.Equal(RunRules.JobAlreadyActive, whileActive.GetProperty("rule").GetString());
        Assert.Equal(RevertRules.LaterJobNotReverted, whileLaterReverting.GetProperty("rule").GetString());
        Assert.Equal(1, afterLaterReverted.GetProperty("jobCount").GetInt32());
    }

    [Fact]
    public async Task A_revert_is_no_migration_stage_of_the_mapping_but_its_report_shows_it()
    {
        var (mapping, permissions) = await MigratedAsync(JobStatus.Exceptions);

        var revert = await RevertAsync(permissions);
        var waiting = await Client.GetJsonAsync($"/api/v1/mappings/{mapping}");
        await RunNextAsync(mapping, JobStatus.Finished);
        var reverted = await Client.GetJsonAsync($"/api/v1/mappings/{mapping}");

        foreach (var view in new[] { waiting, reverted })
        {
            Assert.Equal("MigratePermissions", view.GetProperty("stage").GetString());
            Assert.Equal("Exceptions", view.GetProperty("status").GetString());
        }
        var runs = (await Client.GetJsonAsync($"/api/v1/mappings/{mapping}/report")).GetProperty("runs").EnumerateArray().ToList();
        var revertRun = runs.Single(r => r.GetProperty("runId").GetGuid() == revert.GetProperty("run").Id());
        Assert.Equal(permissions, revertRun.GetProperty("jobs")[0].GetProperty("revertOf").GetGuid());
        Assert.Equal("Finished", revertRun.GetProperty("jobs")[0].GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_rejoin_an_unfinished_job_and_a_dry_run_cannot_be_reverted()
    {
        var (mapping, _) = await MigratedAsync();
        var rejoin = (await Client.GetJsonAsync($"/api/v1/mappings/{mapping}/report")).GetProperty("runs")[0].GetProperty("jobs")
            .EnumerateArray().Single(j => j.GetProperty("kind").GetString() == "RejoinDomain").Id();
        var project = (await Client.GetJsonAsync($"/api/v1/mappings/{mapping}")).GetProperty("projectId").GetGuid();
        await Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "MigrateUserProfile" }, mappingIds = new[] { mapping }, dryRun = true });
        var preview = await RunNextAsync(mapping, JobStatus.Finished);
        await Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "MigratePermissions" }, mappingIds = new[] { mapping }, dryRun = true });
        var waiting = (await Client.GetJsonAsync($"/api/v1/mappings/{mapping}/report")).GetProperty("runs").EnumerateArray()
            .SelectMany(r => r.GetProperty("jobs").EnumerateArray()).Single(j => j.GetProperty("status").GetString() == "WaitingToStart").Id();

        Assert.Equal(RevertRules.KindNotRevertible, (await RevertAsync(rejoin, HttpStatusCode.Conflict)).GetProperty("rule").GetString());
        Assert.Equal(RevertRules.JobNotFinished, (await RevertAsync(waiting, HttpStatusCode.Conflict)).GetProperty("rule").GetString());
        Assert.Equal(RevertRules.DryRunChangedNothing, (await RevertAsync(preview.Id, HttpStatusCode.Conflict)).GetProperty("rule").GetString());
        await RevertAsync(Guid.NewGuid(), HttpStatusCode.NotFound);
        var runs = await Client.GetJsonAsync($"/api/v1/projects/{project}/runs");
        Assert.Equal(3, runs.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task A_rerun_of_a_dry_run_is_a_dry_run_again()
    {
        var project = await Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 1);
        var run = await Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "MigratePermissions" }, mappingIds = ids, dryRun = true });
        await RunNextAsync(ids[0], JobStatus.Failed);

        var rerun = await Client.PostJsonAsync($"/api/v1/runs/{run.GetProperty("run").Id()}/rerun", new { });

        Assert.True(rerun.GetProperty("run").GetProperty("dryRun").GetBoolean());
        var leased = await host.WithTransitionsAsync(t => t.LeaseNextAsync(ids[0], Guid.NewGuid(), Lease, CancellationToken.None));
        Assert.True(leased!.DryRun);
    }
}

public sealed class ReaclRunsOnSqlite(SqliteServer server) : ReaclRunsSuite(server.Host), IClassFixture<SqliteServer>;

public sealed class ReaclRunsOnPostgres(PostgresServer server) : ReaclRunsSuite(server.Host), IClassFixture<PostgresServer>;
