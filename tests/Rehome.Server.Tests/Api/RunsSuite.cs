using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Core.Runs;
using Rehome.Server.Runs;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Api;

/// <summary>The run engine through the API and the lease calls agents will use; on SQLite and PostgreSQL.</summary>
public abstract class RunsSuite(ServerHost host)
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    private HttpClient Client => host.Client;

    private static string Prefix() => "R" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();

    private async Task<JsonElement> StartAsync(Guid project, object body, HttpStatusCode expected = HttpStatusCode.Created) =>
        await Client.PostJsonAsync($"/api/v1/projects/{project}/runs", body, expected);

    private async Task<Dictionary<JobKind, JsonElement>> JobsOfMappingAsync(Guid mappingId)
    {
        var report = await Client.GetJsonAsync($"/api/v1/mappings/{mappingId}/report");
        return report.GetProperty("runs")[0].GetProperty("jobs").EnumerateArray()
            .ToDictionary(j => Enum.Parse<JobKind>(j.GetProperty("kind").GetString()!), j => j);
    }

    private static JobStatus Status(JsonElement job) => Enum.Parse<JobStatus>(job.GetProperty("status").GetString()!);

    private async Task TickAsync()
    {
        await using var scope = host.Scope();
        await scope.ServiceProvider.GetRequiredService<RunEngineService>().TickAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_run_writes_its_jobs_with_their_starting_statuses_and_lists_refusals()
    {
        var project = await Client.CreateProjectAsync("ActiveDirectory", "Offline");
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 3);

        var result = await StartAsync(project, new
        {
            kinds = new[] { "RejoinDomain", "MigratePermissions", "MigrateEntraIdGroups", "RegisterAutopilot" },
            mappingIds = ids,
        });

        Assert.Equal(6, result.GetProperty("jobCount").GetInt32());
        Assert.Equal(3, result.GetProperty("mappingCount").GetInt32());
        var refusals = result.GetProperty("refusals").EnumerateArray().ToList();
        Assert.Equal(6, refusals.Count);
        Assert.Equal(3, refusals.Count(r => r.GetProperty("rule").GetString() == RunRules.SourceEntraIdDisabled));
        Assert.Equal(3, refusals.Count(r => r.GetProperty("rule").GetString() == RunRules.AutopilotNeedsEntraIdOffline));
        Assert.All(refusals, r => Assert.False(string.IsNullOrEmpty(r.GetProperty("sourceDevice").GetString())));
        var jobs = await JobsOfMappingAsync(ids[0]);
        Assert.Equal(JobStatus.WaitingForDestination, Status(jobs[JobKind.RejoinDomain]));
        Assert.Equal(JobStatus.WaitingForPrerequisite, Status(jobs[JobKind.MigratePermissions]));
        var mapping = await Client.GetJsonAsync($"/api/v1/mappings/{ids[0]}");
        Assert.Equal("RejoinDomain", mapping.GetProperty("stage").GetString());
        Assert.Equal("WaitingForDestination", mapping.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_preview_answers_like_a_start_and_writes_nothing()
    {
        var project = await Client.CreateProjectAsync();
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 2);

        var preview = await Client.PostJsonAsync($"/api/v1/projects/{project}/runs/preview",
            new { kinds = new[] { "RejoinDomain", "MigrateUserProfile" }, mappingIds = ids }, HttpStatusCode.OK);

        Assert.Equal(4, preview.GetProperty("jobCount").GetInt32());
        Assert.Equal(JsonValueKind.Null, preview.GetProperty("run").ValueKind);
        var runs = await Client.GetJsonAsync($"/api/v1/projects/{project}/runs");
        Assert.Equal(0, runs.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task A_filter_selects_every_matching_mapping_across_pages()
    {
        var project = await Client.CreateProjectAsync("EntraId", "Offline", sourceEntraId: true);
        var prefix = Prefix();
        await Client.ImportDevicesAsync(project, prefix, 12);
        await Client.ImportDevicesAsync(project, Prefix(), 5);

        var result = await StartAsync(project, new { kinds = new[] { "RegisterAutopilot" }, filter = new { search = prefix } });

        Assert.Equal(12, result.GetProperty("jobCount").GetInt32());
        var notStarted = await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?status=NotStarted");
        Assert.Equal(5, notStarted.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task A_run_by_filter_refuses_each_kind_already_active_and_counts_a_mapping_with_several_active_jobs_once()
    {
        var project = await Client.CreateProjectAsync("EntraId", "Offline", sourceEntraId: true);
        var prefix = Prefix();
        var ids = await Client.ImportDevicesAsync(project, prefix, 3);
        await StartAsync(project, new { kinds = new[] { "MigrateEntraIdGroups", "RegisterAutopilot" }, mappingIds = ids.Take(2).ToList() });

        var result = await StartAsync(project, new
        {
            kinds = new[] { "RejoinDomain", "MigrateEntraIdGroups", "RegisterAutopilot" },
            filter = new { search = prefix },
        });

        // Two mappings have two active jobs each: only their rejoin starts; the third gets all three.
        Assert.Equal(3, result.GetProperty("mappingCount").GetInt32());
        Assert.Equal(5, result.GetProperty("jobCount").GetInt32());
        var refusals = result.GetProperty("refusals").EnumerateArray().ToList();
        Assert.Equal(4, refusals.Count);
        Assert.All(refusals, r => Assert.Equal(RunRules.JobAlreadyActive, r.GetProperty("rule").GetString()));
        Assert.Equal(ids.Take(2).Order(), refusals.Select(r => r.GetProperty("mappingId").GetGuid()).Distinct().Order());
    }

    [Fact]
    public async Task Permissions_without_rejoin_are_refused_and_nothing_starts()
    {
        var project = await Client.CreateProjectAsync();
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 2);

        var problem = await StartAsync(project, new { kinds = new[] { "MigratePermissions" }, mappingIds = ids }, HttpStatusCode.UnprocessableEntity);

        Assert.Equal("AllJobsRefused", problem.GetProperty("rule").GetString());
        var refusals = problem.GetProperty("refusals").EnumerateArray().ToList();
        Assert.Equal(2, refusals.Count);
        Assert.All(refusals, r => Assert.Equal(RunRules.RejoinRequired, r.GetProperty("rule").GetString()));
    }

    [Fact]
    public async Task A_job_kind_already_waiting_is_refused_in_a_second_run()
    {
        var project = await Client.CreateProjectAsync();
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 1);
        await StartAsync(project, new { kinds = new[] { "RejoinDomain" }, mappingIds = ids });

        var problem = await StartAsync(project, new { kinds = new[] { "RejoinDomain" }, mappingIds = ids }, HttpStatusCode.UnprocessableEntity);

        Assert.Equal(RunRules.JobAlreadyActive, problem.GetProperty("refusals")[0].GetProperty("rule").GetString());
    }

    [Fact]
    public async Task Two_runs_started_at_once_on_the_same_mappings_do_not_both_get_jobs()
    {
        var project = await Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 50);
        var body = new { kinds = new[] { "RejoinDomain" }, mappingIds = ids };

        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            Client.PostAsJsonAsync($"/api/v1/projects/{project}/runs", body, ServerHost.Json)));

        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Created);
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.Created), a => Assert.Equal(HttpStatusCode.UnprocessableEntity, a.StatusCode));
    }

    [Fact]
    public async Task A_start_time_with_any_offset_is_kept_as_the_same_instant()
    {
        var project = await Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 1);
        var local = new DateTimeOffset(2026, 12, 24, 22, 0, 0, TimeSpan.FromHours(2));

        var run = await StartAsync(project, new { kinds = new[] { "RejoinDomain" }, mappingIds = ids, startAt = local });

        Assert.Equal(local, run.GetProperty("run").GetProperty("startAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task More_than_fifty_thousand_mappings_are_refused_whole()
    {
        var project = await Client.CreateProjectAsync();
        var ids = Enumerable.Range(0, RunRules.MaxMappingsPerRun + 1).Select(_ => Guid.NewGuid()).ToList();

        var problem = await StartAsync(project, new { kinds = new[] { "RejoinDomain" }, mappingIds = ids }, HttpStatusCode.BadRequest);

        Assert.Equal(RunRules.RunTooLarge, problem.GetProperty("rule").GetString());
    }

    [Fact]
    public async Task A_finished_rejoin_releases_the_permissions_job_waiting_for_it()
    {
        var project = await Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 1);
        await StartAsync(project, new { kinds = new[] { "RejoinDomain", "MigratePermissions" }, mappingIds = ids });
        var agent = Guid.NewGuid();

        var leased = await host.WithTransitionsAsync(t => t.LeaseNextAsync(ids[0], agent, Lease, CancellationToken.None));
        Assert.Equal(JobKind.RejoinDomain, leased!.Kind);
        Assert.Equal(JobStatus.InProgress, Status((await JobsOfMappingAsync(ids[0]))[JobKind.RejoinDomain]));
        // The permissions job waits for the rejoin: no other agent gets it, and the holder gets only its rejoin again.
        Assert.Null(await host.WithTransitionsAsync(t => t.LeaseNextAsync(ids[0], Guid.NewGuid(), Lease, CancellationToken.None)));
        var sentAgain = await host.WithTransitionsAsync(t => t.LeaseNextAsync(ids[0], agent, Lease, CancellationToken.None));
        Assert.Equal((leased.Id, 1), (sentAgain?.Id, sentAgain?.Attempts));
        leased = sentAgain!;

        var completed = await host.WithTransitionsAsync(t => t.CompleteAsync(leased.Id, leased.LeaseOwner!.Value, leased.LeaseToken!.Value,
            new JobCompletion(JobStatus.Finished, new JobProgress(10, 10, 4, 0), null, null), CancellationToken.None));

        Assert.True(completed);
        var jobs = await JobsOfMappingAsync(ids[0]);
        Assert.Equal(JobStatus.Finished, Status(jobs[JobKind.RejoinDomain]));
        Assert.Equal(JobStatus.WaitingToStart, Status(jobs[JobKind.MigratePermissions]));
        var mapping = await Client.GetJsonAsync($"/api/v1/mappings/{ids[0]}");
        Assert.Equal("MigratePermissions", mapping.GetProperty("stage").GetString());
        Assert.NotEqual(JsonValueKind.Null, mapping.GetProperty("rejoinedAt").ValueKind);
        var next = await host.WithTransitionsAsync(t => t.LeaseNextAsync(ids[0], agent, Lease, CancellationToken.None));
        Assert.Equal(JobKind.MigratePermissions, next!.Kind);
    }

    [Fact]
    public async Task A_failed_rejoin_fails_the_jobs_waiting_for_it_with_prerequisite_failed()
    {
        var project = await Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 1);
        await StartAsync(project, new { kinds = new[] { "RejoinDomain", "MigratePermissions", "MigrateUserProfile" }, mappingIds = ids });
        var leased = await host.WithTransitionsAsync(t => t.LeaseNextAsync(ids[0], Guid.NewGuid(), Lease, CancellationToken.None));

        await host.WithTransitionsAsync(t => t.CompleteAsync(leased!.Id, leased.LeaseOwner!.Value, leased.LeaseToken!.Value,
            new JobCompletion(JobStatus.Failed, new JobProgress(0, 0, 0, 0), "JoinFailed", "The destination refused the join."), CancellationToken.None));

        var jobs = await JobsOfMappingAsync(ids[0]);
        foreach (var kind in new[] { JobKind.MigratePermissions, JobKind.MigrateUserProfile })
        {
            Assert.Equal(JobStatus.Failed, Status(jobs[kind]));
            Assert.Equal(JobErrorCodes.PrerequisiteFailed, jobs[kind].GetProperty("errorCode").GetString());
        }
        var mapping = await Client.GetJsonAsync($"/api/v1/mappings/{ids[0]}");
        Assert.Equal("Failed", mapping.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Stopping_works_in_every_status()
    {
        var project = await Client.CreateProjectAsync("ActiveDirectory", "Offline");
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 4);
        var scheduled = await StartAsync(project, new { kinds = new[] { "RejoinDomain" }, mappingIds = new[] { ids[0] }, startAt = host.Time.GetUtcNow().AddDays(1) });
        Assert.True(scheduled.GetProperty("scheduled").GetBoolean());
        await StartAsync(project, new { kinds = new[] { "RejoinDomain", "MigratePermissions" }, mappingIds = ids.Skip(1) });
        // ids[1]: rejoin prepared and leased (in progress); ids[2]: prepared, waiting to start; ids[3]: waiting for destination.
        var rejoin1 = (await JobsOfMappingAsync(ids[1]))[JobKind.RejoinDomain].Id();
        var rejoin2 = (await JobsOfMappingAsync(ids[2]))[JobKind.RejoinDomain].Id();
        await host.WithTransitionsAsync(t => t.DestinationPreparedAsync(rejoin1, null, null, CancellationToken.None));
        await host.WithTransitionsAsync(t => t.DestinationPreparedAsync(rejoin2, null, null, CancellationToken.None));
        var leased = await host.WithTransitionsAsync(t => t.LeaseNextAsync(ids[1], Guid.NewGuid(), Lease, CancellationToken.None));

        async Task<JsonElement> Stop(Guid jobId, HttpStatusCode expected = HttpStatusCode.OK) =>
            await Client.PostJsonAsync($"/api/v1/jobs/{jobId}/stop", new { }, expected);

        var statuses = new Dictionary<JobStatus, Guid>
        {
            [JobStatus.Scheduled] = (await JobsOfMappingAsync(ids[0]))[JobKind.RejoinDomain].Id(),
            [JobStatus.WaitingToStart] = rejoin2,
            // Before its rejoin: stopping the rejoin first would fail it as "prerequisite failed".
            [JobStatus.WaitingForPrerequisite] = (await JobsOfMappingAsync(ids[3]))[JobKind.MigratePermissions].Id(),
            [JobStatus.WaitingForDestination] = (await JobsOfMappingAsync(ids[3]))[JobKind.RejoinDomain].Id(),
        };
        foreach (var (status, jobId) in statuses)
        {
            Assert.Equal(status, Status(await Client.GetJsonAsync($"/api/v1/jobs/{jobId}")));
            Assert.Equal(1, (await Stop(jobId)).GetProperty("stoppedNow").GetInt32());
            var job = await Client.GetJsonAsync($"/api/v1/jobs/{jobId}");
            Assert.Equal(JobStatus.Stopped, Status(job));
            Assert.Equal(JobErrorCodes.StoppedByAdministrator, job.GetProperty("errorCode").GetString());
        }

        // A running job is asked to stop; its agent hears it on renewal and ends the job as Stopped.
        Assert.Equal(1, (await Stop(leased!.Id)).GetProperty("stopRequested").GetInt32());
        Assert.Equal(JobStatus.InProgress, Status(await Client.GetJsonAsync($"/api/v1/jobs/{leased.Id}")));
        var renewal = await host.WithTransitionsAsync(t => t.RenewAsync(leased.Id, leased.LeaseOwner!.Value, leased.LeaseToken!.Value, Lease, new JobProgress(1, 5, 0, 0), CancellationToken.None));
        Assert.Equal(LeaseRenewal.StopRequested, renewal);
        await host.WithTransitionsAsync(t => t.CompleteAsync(leased.Id, leased.LeaseOwner!.Value, leased.LeaseToken!.Value,
            new JobCompletion(JobStatus.Stopped, new JobProgress(1, 5, 0, 0), JobErrorCodes.StoppedByAdministrator, "Stopped on request."), CancellationToken.None));
        Assert.Equal(JobStatus.Stopped, Status(await Client.GetJsonAsync($"/api/v1/jobs/{leased.Id}")));
        // The permissions job that waited for the stopped rejoin failed with the reason.
        var dependent = (await JobsOfMappingAsync(ids[1]))[JobKind.MigratePermissions];
        Assert.Equal(JobErrorCodes.PrerequisiteFailed, dependent.GetProperty("errorCode").GetString());

        var over = await Stop(leased.Id, HttpStatusCode.Conflict);
        Assert.Equal("JobAlreadyOver", over.GetProperty("rule").GetString());
    }

    [Fact]
    public async Task Stopping_a_run_stops_its_waiting_jobs_and_asks_running_ones()
    {
        var project = await Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 3);
        var run = await StartAsync(project, new { kinds = new[] { "RejoinDomain", "MigrateUserProfile" }, mappingIds = ids });
        await host.WithTransitionsAsync(t => t.LeaseNextAsync(ids[0], Guid.NewGuid(), Lease, CancellationToken.None));

        var stop = await Client.PostJsonAsync($"/api/v1/runs/{run.GetProperty("run").Id()}/stop", new { }, HttpStatusCode.OK);

        Assert.Equal(5, stop.GetProperty("stoppedNow").GetInt32());
        Assert.Equal(1, stop.GetProperty("stopRequested").GetInt32());
        // The run's mappings show it (they are found through the run's jobs).
        foreach (var id in ids.Skip(1))
        {
            Assert.Equal("Stopped", (await Client.GetJsonAsync($"/api/v1/mappings/{id}")).GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task Deleting_a_mapping_or_a_project_deletes_their_jobs_and_is_refused_while_jobs_are_active()
    {
        var project = await Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 2);
        var run = await StartAsync(project, new { kinds = new[] { "RejoinDomain" }, mappingIds = ids });
        var firstJob = (await JobsOfMappingAsync(ids[0]))[JobKind.RejoinDomain].Id();
        var secondJob = (await JobsOfMappingAsync(ids[1]))[JobKind.RejoinDomain].Id();

        var refused = await (await Client.DeleteAsync(new Uri($"/api/v1/projects/{project}", UriKind.Relative))).JsonAsync(HttpStatusCode.Conflict);
        Assert.Equal("ProjectHasActiveJobs", refused.GetProperty("rule").GetString());

        await Client.PostJsonAsync($"/api/v1/runs/{run.GetProperty("run").Id()}/stop", new { }, HttpStatusCode.OK);
        await (await Client.DeleteAsync(new Uri($"/api/v1/mappings/{ids[0]}", UriKind.Relative))).JsonAsync(HttpStatusCode.NoContent);
        await Client.GetJsonAsync($"/api/v1/jobs/{firstJob}", HttpStatusCode.NotFound);
        await Client.GetJsonAsync($"/api/v1/jobs/{secondJob}");

        await (await Client.DeleteAsync(new Uri($"/api/v1/projects/{project}", UriKind.Relative))).JsonAsync(HttpStatusCode.NoContent);
        await Client.GetJsonAsync($"/api/v1/jobs/{secondJob}", HttpStatusCode.NotFound);
        await Client.GetJsonAsync($"/api/v1/mappings/{ids[1]}", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_scheduled_run_is_released_at_its_time()
    {
        var project = await Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 2);
        var startAt = host.Time.GetUtcNow().AddHours(3);
        await StartAsync(project, new { kinds = new[] { "RejoinDomain", "MigratePermissions" }, mappingIds = ids, startAt });
        await TickAsync();
        Assert.Equal(JobStatus.Scheduled, Status((await JobsOfMappingAsync(ids[0]))[JobKind.RejoinDomain]));
        Assert.Equal("Scheduled", (await Client.GetJsonAsync($"/api/v1/mappings/{ids[1]}")).GetProperty("status").GetString());

        host.Time.Advance(TimeSpan.FromHours(3));
        await TickAsync();

        var jobs = await JobsOfMappingAsync(ids[0]);
        Assert.Equal(JobStatus.WaitingToStart, Status(jobs[JobKind.RejoinDomain]));
        Assert.Equal(JobStatus.WaitingForPrerequisite, Status(jobs[JobKind.MigratePermissions]));
        // Every mapping of the released run shows it (they are found through the run's jobs).
        foreach (var id in ids)
        {
            Assert.Equal("WaitingToStart", (await Client.GetJsonAsync($"/api/v1/mappings/{id}")).GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task The_engine_clock_releases_a_scheduled_run_by_itself()
    {
        await using var engineHost = await ServerHost.StartAsync(Rehome.Server.Store.StoreProvider.Sqlite, new()
        {
            ["Rehome:Runs:Background"] = "true",
            ["Rehome:Runs:TickInterval"] = "00:10:00",
        });
        var project = await engineHost.Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await engineHost.Client.ImportDevicesAsync(project, Prefix(), 1);
        await engineHost.Client.PostJsonAsync($"/api/v1/projects/{project}/runs",
            new { kinds = new[] { "RejoinDomain" }, mappingIds = ids, startAt = engineHost.Time.GetUtcNow().AddMinutes(10) });

        engineHost.Time.Advance(TimeSpan.FromMinutes(10));

        var deadline = DateTime.UtcNow.AddSeconds(10);
        string? status;
        do
        {
            status = (await engineHost.Client.GetJsonAsync($"/api/v1/mappings/{ids[0]}")).GetProperty("status").GetString();
            if (status == "WaitingToStart")
            {
                break;
            }
            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Equal("WaitingToStart", status);
    }

    [Fact]
    public async Task A_lapsed_lease_returns_the_job_and_the_old_holder_can_change_nothing()
    {
        var project = await Client.CreateProjectAsync("EntraId", "Offline", sourceEntraId: true);
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 1);
        await StartAsync(project, new { kinds = new[] { "MigrateEntraIdGroups" }, mappingIds = ids });
        var first = await host.WithTransitionsAsync(t => t.LeaseNextAsync(ids[0], Guid.NewGuid(), Lease, CancellationToken.None));

        host.Time.Advance(Lease + TimeSpan.FromSeconds(1));
        await TickAsync();

        var job = await Client.GetJsonAsync($"/api/v1/jobs/{first!.Id}");
        Assert.Equal(JobStatus.WaitingToStart, Status(job));
        Assert.Equal(JobErrorCodes.LeaseLapsed, job.GetProperty("errorCode").GetString());
        var renewal = await host.WithTransitionsAsync(t => t.RenewAsync(first.Id, first.LeaseOwner!.Value, first.LeaseToken!.Value, Lease, new JobProgress(1, 1, 1, 0), CancellationToken.None));
        Assert.Equal(LeaseRenewal.Lost, renewal);
        var second = await host.WithTransitionsAsync(t => t.LeaseNextAsync(ids[0], Guid.NewGuid(), Lease, CancellationToken.None));
        Assert.Equal(2, second!.Attempts);
        var stale = await host.WithTransitionsAsync(t => t.CompleteAsync(first.Id, first.LeaseOwner!.Value, first.LeaseToken!.Value,
            new JobCompletion(JobStatus.Finished, new JobProgress(1, 1, 1, 0), null, null), CancellationToken.None));
        Assert.False(stale);
        Assert.Equal(JobStatus.InProgress, Status(await Client.GetJsonAsync($"/api/v1/jobs/{first.Id}")));
    }

    [Fact]
    public async Task A_job_whose_lease_lapses_too_often_fails_with_the_reason()
    {
        var project = await Client.CreateProjectAsync("EntraId", "Offline", sourceEntraId: true);
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 1);
        await StartAsync(project, new { kinds = new[] { "MigrateEntraIdGroups" }, mappingIds = ids });
        Guid jobId = default;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            jobId = (await host.WithTransitionsAsync(t => t.LeaseNextAsync(ids[0], Guid.NewGuid(), Lease, CancellationToken.None)))!.Id;
            host.Time.Advance(Lease + TimeSpan.FromSeconds(1));
            await TickAsync();
        }

        var job = await Client.GetJsonAsync($"/api/v1/jobs/{jobId}");
        Assert.Equal(JobStatus.Failed, Status(job));
        Assert.Contains("stopped reporting 5 time(s)", job.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_one_of_many_concurrent_agents_gets_a_job()
    {
        var project = await Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 1);
        await StartAsync(project, new { kinds = new[] { "RejoinDomain" }, mappingIds = ids });

        var attempts = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            host.WithTransitionsAsync(t => t.LeaseNextAsync(ids[0], Guid.NewGuid(), Lease, CancellationToken.None))));

        Assert.Single(attempts, a => a is not null);
    }

    [Fact]
    public async Task A_rerun_runs_again_exactly_what_did_not_finish_and_the_report_keeps_both_runs()
    {
        var project = await Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 2);
        var run = await StartAsync(project, new { kinds = new[] { "RejoinDomain", "MigratePermissions" }, mappingIds = ids });
        foreach (var (mapping, outcome) in new[] { (ids[0], JobStatus.Failed), (ids[1], JobStatus.Finished) })
        {
            var job = await host.WithTransitionsAsync(t => t.LeaseNextAsync(mapping, Guid.NewGuid(), Lease, CancellationToken.None));
            await host.WithTransitionsAsync(t => t.CompleteAsync(job!.Id, job.LeaseOwner!.Value, job.LeaseToken!.Value,
                new JobCompletion(outcome, new JobProgress(0, 0, 0, 0), outcome == JobStatus.Failed ? "JoinFailed" : null, null), CancellationToken.None));
        }

        host.Time.Advance(TimeSpan.FromMinutes(5));
        var rerun = await Client.PostJsonAsync($"/api/v1/runs/{run.GetProperty("run").Id()}/rerun", new { });

        Assert.Equal(2, rerun.GetProperty("jobCount").GetInt32());
        Assert.Equal(1, rerun.GetProperty("mappingCount").GetInt32());
        var report = await Client.GetJsonAsync($"/api/v1/mappings/{ids[0]}/report");
        Assert.Equal(2, report.GetProperty("runs").GetArrayLength());
        var newest = report.GetProperty("runs")[0].GetProperty("jobs").EnumerateArray().Select(Status).ToList();
        Assert.Equal([JobStatus.WaitingToStart, JobStatus.WaitingForPrerequisite], newest);
        var status = await Client.GetJsonAsync($"/api/v1/runs/{run.GetProperty("run").Id()}");
        Assert.Equal(1, status.GetProperty("jobsByKindAndStatus").GetProperty("RejoinDomain").GetProperty("Failed").GetInt32());
        // The second mapping's permissions job, released by its finished rejoin, still waits for its agent.
        Assert.Equal(1, status.GetProperty("jobsByKindAndStatus").GetProperty("MigratePermissions").GetProperty("WaitingToStart").GetInt32());
        Assert.False(status.GetProperty("isOver").GetBoolean());
    }
}

public sealed class RunsOnSqlite(SqliteServer server) : RunsSuite(server.Host), IClassFixture<SqliteServer>;

public sealed class RunsOnPostgres(PostgresServer server) : RunsSuite(server.Host), IClassFixture<PostgresServer>;
