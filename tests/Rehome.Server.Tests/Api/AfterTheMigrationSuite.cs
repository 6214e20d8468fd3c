using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Core.Runs;
using Rehome.Protocol;
using Rehome.Server.Auth;
using Rehome.Server.Runs;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Api;

/// <summary>A server whose agents enroll through the simulated directory, on the given store.</summary>
public abstract class CleanupServer(StoreProvider provider) : IAsyncLifetime
{
    public ServerHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await ServerHost.StartAsync(provider, new()
    {
        ["Rehome:Directories:Mode"] = "Simulated",
        ["Rehome:Gateway:EnrollmentsPerMinute"] = "10000",
    });

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

public sealed class CleanupSqliteServer() : CleanupServer(StoreProvider.Sqlite);

public sealed class CleanupPostgresServer() : CleanupServer(StoreProvider.PostgreSql);

/// <summary>Issue 15's "after the migration": remove completed mappings, uninstall agents remotely, archive a project with its reports.</summary>
public abstract class AfterTheMigrationSuite(ServerHost host)
{
    private HttpClient Client => host.Client;

    private static string Prefix() => "C" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();

    /// <summary>
    /// Five devices with rejoin + permissions: 1 and 2 both Finished, 3 permissions Exceptions, 4 rejoin Failed, 5 still
    /// waiting (active); a sixth never run.
    /// </summary>
    private async Task<(Guid Project, List<Guid> Mappings)> MigratedAsync()
    {
        var project = await Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 6);
        await Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain", "MigratePermissions" }, mappingIds = ids[..5] });
        foreach (var done in ids[..2])
        {
            await host.EndNextJobAsync(done, JobStatus.Finished);
            await host.EndNextJobAsync(done, JobStatus.Finished);
        }
        await host.EndNextJobAsync(ids[2], JobStatus.Finished);
        await host.EndNextJobAsync(ids[2], JobStatus.Exceptions);
        await host.EndNextJobAsync(ids[3], JobStatus.Failed);
        return (project, ids);
    }

    private async Task<int> JobCountAsync(IEnumerable<Guid> mappings)
    {
        var ids = mappings.ToList();
        await using var scope = host.Scope();
        return await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Jobs.CountAsync(j => ids.Contains(j.MappingId));
    }

    private async Task<List<string>> AuditAsync(string action, string target)
    {
        await using var scope = host.Scope();
        return await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().AuditLog
            .Where(a => a.Action == action && a.Target == target).Select(a => a.Details ?? "").ToListAsync();
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage answer, HttpStatusCode expected)
    {
        var text = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == expected, $"{(int)answer.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    [Fact]
    public async Task Removing_completed_mappings_removes_those_whose_every_kind_finished_with_their_jobs_and_counts_the_rest_by_reason()
    {
        var (project, ids) = await MigratedAsync();

        var result = await Client.PostJsonAsync($"/api/v1/projects/{project}/mappings/remove-completed", new { }, HttpStatusCode.OK);

        Assert.Equal(2, result.GetProperty("done").GetInt32());
        Assert.Equal(4, result.GetProperty("kept").GetInt32());
        var reasons = result.GetProperty("keptByReason").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        Assert.Equal(new Dictionary<string, int> { ["Exceptions"] = 1, ["Failed"] = 1, ["Active"] = 1, ["NeverRun"] = 1 }, reasons);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync(new Uri($"/api/v1/mappings/{ids[0]}", UriKind.Relative))).StatusCode);
        Assert.Equal(0, await JobCountAsync(ids[..2]));
        Assert.Equal(6, await JobCountAsync(ids[2..]));
        Assert.Equal(["2 removed, 4 kept"], await AuditAsync("mapping.remove-completed", $"project:{project}"));
    }

    [Fact]
    public async Task Removing_completed_mappings_takes_only_the_selected_ones()
    {
        var (project, ids) = await MigratedAsync();

        var result = await Client.PostJsonAsync($"/api/v1/projects/{project}/mappings/remove-completed", new { mappingIds = new[] { ids[1], ids[3] } }, HttpStatusCode.OK);

        Assert.Equal(1, result.GetProperty("done").GetInt32());
        Assert.Equal(1, result.GetProperty("keptByReason").GetProperty("Failed").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync(new Uri($"/api/v1/mappings/{ids[0]}", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync(new Uri($"/api/v1/mappings/{ids[1]}", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Removing_completed_mappings_refuses_ids_and_a_filter_together_and_a_viewer()
    {
        var (project, ids) = await MigratedAsync();
        var viewer = await host.CreateAsync(Role.Viewer);

        var both = await Client.PostAsJsonAsync($"/api/v1/projects/{project}/mappings/remove-completed", new { mappingIds = ids, filter = new { status = "Finished" } });
        var denied = await viewer.Client(host).PostAsJsonAsync($"/api/v1/projects/{project}/mappings/remove-completed", new { });

        Assert.Equal("SelectionAmbiguous", (await ProblemAsync(both, HttpStatusCode.BadRequest)).GetProperty("rule").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Equal(10, await JobCountAsync(ids));
    }

    [Fact]
    public async Task Archiving_a_project_with_jobs_waiting_is_refused_naming_the_rule_and_changes_nothing()
    {
        var (project, _) = await MigratedAsync();

        var answer = await Client.PostAsync(new Uri($"/api/v1/projects/{project}/archive", UriKind.Relative), null);

        Assert.Equal("ProjectHasActiveJobs", (await ProblemAsync(answer, HttpStatusCode.Conflict)).GetProperty("rule").GetString());
        Assert.False((await Client.GetJsonAsync($"/api/v1/projects/{project}")).TryGetProperty("archivedAt", out var at) && at.ValueKind != JsonValueKind.Null);
    }

    /// <summary>The migrated project with its waiting jobs stopped, archived.</summary>
    private async Task<(Guid Project, List<Guid> Mappings, JsonElement Archive)> ArchivedAsync()
    {
        var (project, ids) = await MigratedAsync();
        var runs = await Client.GetJsonAsync($"/api/v1/projects/{project}/runs");
        foreach (var run in runs.GetProperty("items").EnumerateArray())
        {
            await Client.PostJsonAsync($"/api/v1/runs/{run.Id()}/stop", new { }, HttpStatusCode.OK);
        }
        var archive = await Client.PostJsonAsync($"/api/v1/projects/{project}/archive", new { }, HttpStatusCode.OK);
        return (project, ids, archive);
    }

    private static async Task<ZipArchive> DownloadAsync(HttpClient client, Guid project)
    {
        var answer = await client.GetAsync(new Uri($"/api/v1/projects/{project}/archive.zip", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("application/zip", answer.Content.Headers.ContentType?.MediaType);
        return new ZipArchive(new MemoryStream(await answer.Content.ReadAsByteArrayAsync()));
    }

    [Fact]
    public async Task An_archived_project_keeps_its_project_and_run_reports_and_its_audit_in_one_zip()
    {
        var (project, ids, archive) = await ArchivedAsync();
        var run = (await Client.GetJsonAsync($"/api/v1/projects/{project}/runs")).GetProperty("items")[0].Id();

        var bytes = await Client.GetByteArrayAsync(new Uri($"/api/v1/projects/{project}/archive.zip", UriKind.Relative));

        Assert.Equal(archive.GetProperty("sizeBytes").GetInt64(), bytes.Length);
        using var zip = new ZipArchive(new MemoryStream(bytes));
        var names = zip.Entries.Select(e => e.FullName).Order().ToList();
        Assert.Equal(5, names.Count);
        Assert.Contains("project-report.csv", names);
        Assert.Contains("project-report.html", names);
        Assert.Contains("audit.csv", names);
        Assert.Single(names, n => n.StartsWith("runs/", StringComparison.Ordinal) && n.EndsWith($"{run:N}.csv", StringComparison.Ordinal));
        var runHtml = Assert.Single(names, n => n.StartsWith("runs/", StringComparison.Ordinal) && n.EndsWith($"{run:N}.html", StringComparison.Ordinal));
        Assert.Contains($"href=\"{runHtml}\"", Read(zip, "project-report.html"), StringComparison.Ordinal);
        var audit = Read(zip, "audit.csv");
        Assert.Contains($"project:{project}", audit, StringComparison.Ordinal);
        Assert.Contains($"run:{run}", audit, StringComparison.Ordinal);
        Assert.Contains("run.stop", audit, StringComparison.Ordinal);
        var report = Read(zip, "project-report.csv").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var projectRow = report.Single(l => l.StartsWith("Project,", StringComparison.Ordinal)).Split(',');
        Assert.Equal(ids.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), projectRow[Array.IndexOf(report[0].Split(','), "Count")]);
        Assert.Contains("Exceptions", Read(zip, "project-report.csv"), StringComparison.Ordinal);
        Assert.Single(await AuditAsync("project.archive", $"project:{project}"));
    }

    [Fact]
    public async Task A_viewer_downloads_the_archives_reports_without_the_audit_which_only_an_auditor_role_reads()
    {
        var (project, _, _) = await ArchivedAsync();
        var viewer = await host.CreateAsync(Role.Viewer);
        var operatorAccount = await host.CreateAsync(Role.Operator);

        using var viewers = await DownloadAsync(viewer.Client(host), project);
        using var operators = await DownloadAsync(operatorAccount.Client(host), project);

        foreach (var zip in new[] { viewers, operators })
        {
            var names = zip.Entries.Select(e => e.FullName).ToList();
            Assert.DoesNotContain("audit.csv", names);
            Assert.Equal(4, names.Count);
            Assert.Contains("project-report.csv", names);
        }
    }

    private static string Read(ZipArchive zip, string name)
    {
        using var reader = new StreamReader(zip.GetEntry(name)!.Open());
        return reader.ReadToEnd();
    }

    [Fact]
    public async Task An_archived_project_refuses_runs_imports_and_edits_each_with_its_rule()
    {
        var (project, ids, _) = await ArchivedAsync();
        var view = await Client.GetJsonAsync($"/api/v1/projects/{project}");

        var run = await Client.PostAsJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain" }, mappingIds = new[] { ids[5] } });
        var import = await Client.PostAsync(new Uri($"/api/v1/projects/{project}/mappings/import", UriKind.Relative),
            new StringContent("SourceDevice,DestinationName\nNEWPC01,\n", System.Text.Encoding.UTF8, "text/csv"));
        var edit = await Client.PutAsJsonAsync($"/api/v1/projects/{project}", new
        {
            name = "renamed",
            sourceConnectionId = view.GetProperty("sourceConnectionId").GetGuid(),
            destinationConnectionId = view.GetProperty("destinationConnectionId").GetGuid(),
            policyId = view.GetProperty("policyId").GetGuid(),
        });
        var deleteMapping = await Client.DeleteAsync(new Uri($"/api/v1/mappings/{ids[5]}", UriKind.Relative));
        var remove = await Client.PostAsJsonAsync($"/api/v1/projects/{project}/mappings/remove-completed", new { });
        var discover = await Client.PostAsJsonAsync($"/api/v1/projects/{project}/mappings/discover", new { organizationalUnit = "OU=Workstations,DC=contoso,DC=example" });

        Assert.Equal("ProjectArchivedNoRuns", (await ProblemAsync(run, HttpStatusCode.Conflict)).GetProperty("rule").GetString());
        Assert.Equal("ProjectArchivedNoImports", (await ProblemAsync(import, HttpStatusCode.Conflict)).GetProperty("rule").GetString());
        Assert.Equal("ProjectArchivedNoImports", (await ProblemAsync(discover, HttpStatusCode.Conflict)).GetProperty("rule").GetString());
        Assert.Equal("ProjectArchivedReadOnly", (await ProblemAsync(edit, HttpStatusCode.Conflict)).GetProperty("rule").GetString());
        Assert.Equal("ProjectArchivedMappingsReadOnly", (await ProblemAsync(deleteMapping, HttpStatusCode.Conflict)).GetProperty("rule").GetString());
        Assert.Equal("ProjectArchivedMappingsReadOnly", (await ProblemAsync(remove, HttpStatusCode.Conflict)).GetProperty("rule").GetString());
        Assert.Equal(view.GetProperty("name").GetString(), (await Client.GetJsonAsync($"/api/v1/projects/{project}")).GetProperty("name").GetString());
        Assert.Equal(6, (await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings")).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task The_run_engine_refuses_a_run_in_a_project_archived_while_the_request_waited_for_the_projects_lock()
    {
        var project = await Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 1);
        await using var scope = host.Scope();
        // Archived after the command's own check passed: as when the archive takes the lock first.
        await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Projects.Where(p => p.Id == project)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.ArchivedAt, (DateTimeOffset?)host.Now));

        var outcome = await scope.ServiceProvider.GetRequiredService<RunEngine>()
            .StartAsync(project, new RunSelection(ids, null), [JobKind.RejoinDomain], null, preview: false, CancellationToken.None);

        Assert.Equal("ProjectArchivedNoRuns", outcome.RunRefused?.Rule);
        Assert.Equal(0, await JobCountAsync(ids));
    }

    [Fact]
    public async Task An_archived_project_leaves_the_default_list_and_the_archived_filter_shows_it_with_who_archived_it()
    {
        var (project, _, _) = await ArchivedAsync();

        var listed = await Client.GetJsonAsync("/api/v1/projects");
        var archived = await Client.GetJsonAsync("/api/v1/projects?archived=true");

        Assert.DoesNotContain(listed.EnumerateArray(), p => p.Id() == project);
        var shown = Assert.Single(archived.EnumerateArray(), p => p.Id() == project);
        Assert.Equal("admin", shown.GetProperty("archivedBy").GetString());
        Assert.Equal(JsonValueKind.String, shown.GetProperty("archivedAt").ValueKind);
    }

    [Fact]
    public async Task Only_an_administrator_archives_and_unarchiving_makes_the_project_editable_again_without_its_zip()
    {
        var (project, ids, _) = await ArchivedAsync();
        var operatorAccount = await host.CreateAsync(Role.Operator);

        var refused = await operatorAccount.Client(host).PostAsync(new Uri($"/api/v1/projects/{project}/unarchive", UriKind.Relative), null);
        var unarchived = await Client.PostAsync(new Uri($"/api/v1/projects/{project}/unarchive", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, unarchived.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync(new Uri($"/api/v1/projects/{project}/archive.zip", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync(new Uri($"/api/v1/mappings/{ids[5]}", UriKind.Relative))).StatusCode);
        Assert.Single(await AuditAsync("project.unarchive", $"project:{project}"));
    }

    private async Task<HttpResponseMessage> PollAsync(EnrolledDevice device) =>
        await device.Agent.PostAsync(new Uri("/agent/v1/poll?wait=0", UriKind.Relative), null);

    [Fact]
    public async Task An_agent_told_to_uninstall_hears_it_at_its_next_poll_and_its_confirmation_shows_it_uninstalled_and_revoked()
    {
        using var device = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));

        var told = await Client.PostJsonAsync($"/api/v1/agents/{device.AgentId}/uninstall", new { }, HttpStatusCode.OK);
        var poll = await PollAsync(device);
        var confirmed = await device.Agent.PostAsJsonAsync("/agent/v1/uninstalled",
            new UninstallReport { Removed = [UninstalledPart.Journals, UninstalledPart.DeviceKey] }, AgentProtocol.JsonOptions);
        var after = await PollAsync(device);

        Assert.Equal("admin", told.GetProperty("uninstall").GetProperty("requestedBy").GetString());
        Assert.Equal(AgentUninstall.PollStatus, (int)poll.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, confirmed.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        var agent = await Client.GetJsonAsync($"/api/v1/agents/{device.AgentId}");
        Assert.Equal("uninstalled", agent.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.String, agent.GetProperty("uninstall").GetProperty("uninstalledAt").ValueKind);
        Assert.Equal(JsonValueKind.String, agent.GetProperty("revokedAt").ValueKind);
        var listed = await Client.GetJsonAsync("/api/v1/agents?state=uninstalled");
        Assert.Contains(listed.GetProperty("items").EnumerateArray(), a => a.Id() == device.AgentId);
        var revoked = await Client.GetJsonAsync($"/api/v1/agents?state=revoked&search={device.DeviceName}");
        Assert.DoesNotContain(revoked.GetProperty("items").EnumerateArray(), a => a.Id() == device.AgentId);
        Assert.Single(await AuditAsync("agent.uninstall-requested", $"agent/{device.AgentId}"));
        Assert.Equal([$"{device.DeviceName}: removed Journals, DeviceKey"], await AuditAsync("agent.uninstalled", $"agent/{device.AgentId}"));
    }

    [Fact]
    public async Task An_agent_told_to_uninstall_first_gets_the_job_waiting_for_it()
    {
        using var device = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        await host.RunAsync(device, "RejoinDomain");

        await Client.PostJsonAsync($"/api/v1/agents/{device.AgentId}/uninstall", new { }, HttpStatusCode.OK);
        var first = await PollAsync(device);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.NotNull(await first.Content.ReadFromJsonAsync<JobAssignment>(AgentProtocol.JsonOptions));
    }

    [Fact]
    public async Task An_agent_told_to_uninstall_while_its_mapping_has_a_scheduled_job_hears_it_only_once_the_job_ended()
    {
        using var device = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        var started = await Client.PostJsonAsync($"/api/v1/projects/{device.ProjectId}/runs",
            new { kinds = new[] { "RejoinDomain" }, mappingIds = new[] { device.MappingId }, startAt = host.Now.AddDays(1) });
        await Client.PostJsonAsync($"/api/v1/agents/{device.AgentId}/uninstall", new { }, HttpStatusCode.OK);

        var whileScheduled = await PollAsync(device);
        await Client.PostJsonAsync($"/api/v1/runs/{started.GetProperty("run").Id()}/stop", new { }, HttpStatusCode.OK);
        var afterTheStop = await PollAsync(device);

        Assert.Equal(HttpStatusCode.NoContent, whileScheduled.StatusCode);
        Assert.Equal(AgentUninstall.PollStatus, (int)afterTheStop.StatusCode);
    }

    /// <summary>A second project on the device's connections (the next wave), the device imported and a rejoin started there.</summary>
    private async Task<Guid> NextWaveAsync(EnrolledDevice device)
    {
        var policy = (await Client.GetJsonAsync($"/api/v1/projects/{device.ProjectId}")).GetProperty("policyId").GetGuid();
        var project = (await Client.PostJsonAsync("/api/v1/projects", new
        {
            name = ApiClient.Unique("wave"),
            sourceConnectionId = device.SourceId,
            destinationConnectionId = device.DestinationId,
            policyId = policy,
        })).Id();
        await Client.PostCsvAsync($"/api/v1/projects/{project}/mappings/import",
            $"SourceDevice,DestinationName,DestinationOU,PrimaryUser,DestinationUser\n{device.DeviceName},,,CONTOSO\\ann,ann@fabrikam.example\n");
        var mapping = (await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?search={device.DeviceName}")).GetProperty("items")[0].Id();
        await Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain" }, mappingIds = new[] { mapping } });
        await using var scope = host.Scope();
        await scope.ServiceProvider.GetRequiredService<RunEngineService>().TickAsync(CancellationToken.None);
        return mapping;
    }

    /// <summary>The device's rejoin ran and finished; the gateway holds its mapping (an idle poll).</summary>
    private async Task<EnrolledDevice> MigratedDeviceAsync()
    {
        var device = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        await host.RunAsync(device, "RejoinDomain");
        await host.EndNextJobAsync(device.MappingId, JobStatus.Finished);
        Assert.Equal(HttpStatusCode.NoContent, (await PollAsync(device)).StatusCode);
        return device;
    }

    [Fact]
    public async Task A_device_whose_completed_mapping_was_removed_gets_the_next_waves_job_without_a_restart()
    {
        using var device = await MigratedDeviceAsync();
        var removed = await Client.PostJsonAsync($"/api/v1/projects/{device.ProjectId}/mappings/remove-completed", new { mappingIds = new[] { device.MappingId } }, HttpStatusCode.OK);
        var mapping = await NextWaveAsync(device);

        var poll = await PollAsync(device);

        Assert.Equal(1, removed.GetProperty("done").GetInt32());
        Assert.Equal(HttpStatusCode.OK, poll.StatusCode);
        Assert.Equal(device.AgentId, (await Client.GetJsonAsync($"/api/v1/mappings/{mapping}")).GetProperty("agentId").GetGuid());
    }

    [Fact]
    public async Task Only_an_administrator_tells_an_agent_to_uninstall_and_a_revoked_one_or_an_unasked_confirmation_is_refused()
    {
        using var device = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        var operatorAccount = await host.CreateAsync(Role.Operator);

        var denied = await operatorAccount.Client(host).PostAsync(new Uri($"/api/v1/agents/{device.AgentId}/uninstall", UriKind.Relative), null);
        var unasked = await device.Agent.PostAsJsonAsync("/agent/v1/uninstalled", new UninstallReport(), AgentProtocol.JsonOptions);
        await Client.PostAsync(new Uri($"/api/v1/agents/{device.AgentId}/revoke", UriKind.Relative), null);
        var revoked = await Client.PostAsync(new Uri($"/api/v1/agents/{device.AgentId}/uninstall", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Equal("UninstallNotRequested", (await ProblemAsync(unasked, HttpStatusCode.Conflict)).GetProperty("rule").GetString());
        Assert.Equal("AgentRevoked", (await ProblemAsync(revoked, HttpStatusCode.Conflict)).GetProperty("rule").GetString());
        Assert.Empty(await AuditAsync("agent.uninstall-requested", $"agent/{device.AgentId}"));
    }

    [Fact]
    public async Task The_agents_of_a_projects_completed_mappings_are_told_to_uninstall_in_one_request_and_the_others_kept_by_reason()
    {
        using var device = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        var others = await Client.ImportDevicesAsync(device.ProjectId, Prefix(), 2);
        await Client.PostJsonAsync($"/api/v1/projects/{device.ProjectId}/runs", new { kinds = new[] { "RejoinDomain" }, mappingIds = new[] { device.MappingId, others[0] } });
        await using (var scope = host.Scope())
        {
            // The destination is prepared (offline join) before the jobs may start.
            await scope.ServiceProvider.GetRequiredService<RunEngineService>().TickAsync(CancellationToken.None);
        }
        await host.EndNextJobAsync(device.MappingId, JobStatus.Finished);
        await host.EndNextJobAsync(others[0], JobStatus.Finished);

        var result = await Client.PostJsonAsync($"/api/v1/projects/{device.ProjectId}/agents/uninstall", new { }, HttpStatusCode.OK);

        Assert.Equal(1, result.GetProperty("done").GetInt32());
        var reasons = result.GetProperty("keptByReason").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        Assert.Equal(new Dictionary<string, int> { ["NoAgent"] = 1, ["NeverRun"] = 1 }, reasons);
        Assert.Equal(AgentUninstall.PollStatus, (int)(await PollAsync(device)).StatusCode);
        Assert.Contains(device.AgentId.ToString(), Assert.Single(await AuditAsync("agent.uninstall-requested", $"project:{device.ProjectId}")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agents_of_completed_mappings_refused_by_rule_are_counted_apart_from_the_mappings_kept()
    {
        using var device = await MigratedDeviceAsync();
        await Client.PostAsync(new Uri($"/api/v1/agents/{device.AgentId}/revoke", UriKind.Relative), null);

        var result = await Client.PostJsonAsync($"/api/v1/projects/{device.ProjectId}/agents/uninstall", new { }, HttpStatusCode.OK);

        Assert.Equal(0, result.GetProperty("done").GetInt32());
        Assert.Equal(0, result.GetProperty("kept").GetInt32());
        Assert.Empty(result.GetProperty("keptByReason").EnumerateObject());
        Assert.Equal(1, result.GetProperty("agentsRefusedByRule").GetProperty("AgentRevoked").GetInt32());
        Assert.Contains("1 agents refused (AgentRevoked 1)", Assert.Single(await AuditAsync("agent.uninstall-requested", $"project:{device.ProjectId}")), StringComparison.Ordinal);
    }
}

public sealed class AfterTheMigrationOnSqlite(CleanupSqliteServer server) : AfterTheMigrationSuite(server.Host), IClassFixture<CleanupSqliteServer>;

public sealed class AfterTheMigrationOnPostgres(CleanupPostgresServer server) : AfterTheMigrationSuite(server.Host), IClassFixture<CleanupPostgresServer>;
