using System.Text.Json;
using System.Text.Json.Nodes;
using Rehome.Cli.Commands;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Cli.Tests;

/// <summary>The commands that bring the CLI level with the API: mappings, connections, policies, projects, runs, audit, tokens.</summary>
public sealed partial class CliTests
{
    private async Task<JsonNode> JsonOfAsync(params string[] args)
    {
        var (exit, output, errors) = await RunSplitAsync([.. args, "-o", "json"]);
        Assert.True(exit == 0, $"rehome {string.Join(' ', args)}: exit {exit}\n{output}\n{errors}");
        return JsonNode.Parse(output)!;
    }

    [Fact]
    public async Task A_mapping_is_added_shown_edited_moved_and_deleted_and_an_edit_keeps_what_was_not_given()
    {
        await LoginAsync();
        var project = await Host.Client.CreateProjectAsync();
        var other = await Host.Client.CreateProjectAsync();
        var otherName = (await Host.Client.GetJsonAsync($"/api/v1/projects/{other}")).GetProperty("name").GetString()!;
        var device = "MAP" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();

        var added = await RunAsync("mappings", "add", project.ToString(), "--source-device", device, "--primary-user", "CONTOSO\\pat",
            "--destination-user", "pat@fabrikam.example");
        var id = (string)(await JsonOfAsync("mappings", "list", project.ToString(), "--search", device))["items"]![0]!["id"]!;
        var edited = await RunAsync("mappings", "edit", id, "--destination-name", device + "-NEW", "--primary-user", "", "--destination-user", "");
        var shown = await JsonOfAsync("mappings", "show", id);
        var moved = await RunAsync("mappings", "move", id, otherName);
        var inOther = await JsonOfAsync("mappings", "show", id);
        var deleted = await RunAsync("mappings", "delete", id);
        var gone = await RunAsync("mappings", "show", id);

        Assert.True(added.Exit == 0, added.Output);
        Assert.Contains($"Added mapping {device} → {device}", added.Output, StringComparison.Ordinal);
        Assert.True(edited.Exit == 0, edited.Output);
        Assert.Equal(device, (string?)shown["sourceDevice"]);
        Assert.Equal(device + "-NEW", (string?)shown["destinationName"]);
        Assert.Null(shown["primaryUser"]);
        Assert.True(moved.Exit == 0, moved.Output);
        Assert.Equal(other, (Guid)inOther["projectId"]!);
        Assert.True(deleted.Exit == 0, deleted.Output);
        Assert.Equal(ExitCodes.NotFound, gone.Exit);
    }

    [Fact]
    public async Task A_refused_edit_names_the_field_and_shows_text_from_outside_as_escapes_and_changes_nothing()
    {
        await LoginAsync();
        var project = await Host.Client.CreateProjectAsync();
        var ids = await Host.Client.ImportDevicesAsync(project, "ESC" + Guid.NewGuid().ToString("N")[..6], 1);
        var before = await Host.Client.GetJsonAsync($"/api/v1/mappings/{ids[0]}");

        var (exit, output) = await RunAsync("mappings", "edit", ids[0].ToString(), "--destination-name", "EVIL\u001b]0;owned\u0007\u202E");

        Assert.Equal(ExitCodes.Refused, exit);
        Assert.Contains("destinationName", output, StringComparison.Ordinal);
        Assert.DoesNotContain(output, c => c is '\u001b' or '\u0007' or '\u202E');
        Assert.Equal(before.GetRawText(), (await Host.Client.GetJsonAsync($"/api/v1/mappings/{ids[0]}")).GetRawText());
    }

    [Fact]
    public async Task A_connection_is_shown_updated_from_a_file_and_deleted_and_one_in_use_is_refused()
    {
        await LoginAsync();
        var project = await Host.Client.CreateProjectAsync();
        var inUse = (await Host.Client.GetJsonAsync($"/api/v1/projects/{project}")).GetProperty("destinationConnectionId").GetGuid().ToString();
        var id = (await Host.Client.PostJsonAsync("/api/v1/connections", ApiClient.DestinationConnection("ActiveDirectory", "Offline")))
            .GetProperty("connection").Id().ToString();
        var current = await JsonOfAsync("connections", "show", id);
        var name = "renamed " + Guid.NewGuid().ToString("N")[..6];
        var file = Path.Combine(Folder, "connection.json");
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(new
        {
            name,
            role = "Destination",
            kind = "ActiveDirectory",
            destination = new { domainDnsName = "fabrikam.example", targetOu = "OU=Wave2,DC=fabrikam,DC=example", rejoinMethod = "Offline", serviceAccountName = "FABRIKAM\\svc-join" },
        }));

        var updated = await RunAsync("connections", "update", id, "--file", file);
        var after = await JsonOfAsync("connections", "show", id);
        var refused = await RunAsync("connections", "delete", inUse);
        var deleted = await RunAsync("connections", "delete", id);

        Assert.Equal("fabrikam.example", (string?)current["destination"]!["domainDnsName"]);
        Assert.True(updated.Exit == 0, updated.Output);
        Assert.Equal(name, (string?)after["name"]);
        Assert.Equal("OU=Wave2,DC=fabrikam,DC=example", (string?)after["destination"]!["targetOu"]);
        // The password was left out of the file: the stored one stays.
        Assert.True((bool)after["destination"]!["hasServiceAccountPassword"]!);
        Assert.Equal(ExitCodes.Refused, refused.Exit);
        Assert.True(deleted.Exit == 0, deleted.Output);
        Assert.Equal(ExitCodes.NotFound, (await RunAsync("connections", "show", id)).Exit);
    }

    [Fact]
    public async Task A_policy_is_shown_renamed_given_other_areas_keeping_its_other_settings_and_deleted()
    {
        await LoginAsync();
        var name = "pol-" + Guid.NewGuid().ToString("N")[..6];
        var id = (string)(await JsonOfAsync("policies", "create", "--name", name, "--areas", "Shares"))["id"]!;
        var before = await JsonOfAsync("policies", "show", id);

        var updated = await RunAsync("policies", "update", id, "--name", name + "-2", "--areas", "Printers,Services");
        var after = await JsonOfAsync("policies", "show", id);
        var deleted = await RunAsync("policies", "delete", id);

        Assert.True(updated.Exit == 0, updated.Output);
        Assert.Equal(name + "-2", (string?)after["name"]);
        Assert.Equal("Services, Printers", (string?)after["settings"]!["areas"]!["kinds"]);
        Assert.Equal((string?)before["settings"]!["reaclMode"], (string?)after["settings"]!["reaclMode"]);
        Assert.True(deleted.Exit == 0, deleted.Output);
        Assert.Equal(ExitCodes.NotFound, (await RunAsync("policies", "show", id)).Exit);
    }

    [Fact]
    public async Task A_project_is_shown_updated_by_name_and_deleted_and_one_with_running_jobs_is_refused()
    {
        await LoginAsync();
        var project = await Host.Client.CreateProjectAsync();
        var busy = await Host.Client.CreateProjectAsync();
        var ids = await Host.Client.ImportDevicesAsync(busy, "BSY" + Guid.NewGuid().ToString("N")[..6], 1);
        await Host.Client.PostJsonAsync($"/api/v1/projects/{busy}/runs", new { kinds = new[] { "RejoinDomain" }, mappingIds = ids });
        var name = (string)(await JsonOfAsync("projects", "show", project.ToString()))["name"]!;

        var updated = await RunAsync("projects", "update", name, "--name", name + "-2", "--tag", "wave-2", "--tag", "laptops");
        var after = await JsonOfAsync("projects", "show", name + "-2");
        var refused = await RunAsync("projects", "delete", busy.ToString());
        var deleted = await RunAsync("projects", "delete", name + "-2");

        Assert.True(updated.Exit == 0, updated.Output);
        Assert.Equal(["wave-2", "laptops"], after["tags"]!.AsArray().Select(t => (string?)t));
        Assert.Equal(project, (Guid)after["id"]!);
        Assert.Equal(ExitCodes.Refused, refused.Exit);
        Assert.Contains("ProjectHasActiveJobs", refused.Output, StringComparison.Ordinal);
        Assert.True(deleted.Exit == 0, deleted.Output);
        Assert.Equal(ExitCodes.NotFound, (await RunAsync("projects", "show", project.ToString())).Exit);
    }

    [Fact]
    public async Task A_projects_runs_and_a_runs_jobs_are_listed_and_one_job_is_stopped_and_run_again()
    {
        await LoginAsync();
        var project = await Host.Client.CreateProjectAsync();
        var ids = await Host.Client.ImportDevicesAsync(project, "RUN" + Guid.NewGuid().ToString("N")[..6], 2);
        var started = await Host.Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain" }, mappingIds = ids });
        var run = started.GetProperty("run").Id().ToString();

        var runs = await RunAsync("runs", "list", project.ToString());
        var jobs = await JsonOfAsync("runs", "jobs", run);
        var job = (string)jobs["items"]![0]!["id"]!;
        var stopped = await RunAsync("jobs", "stop", job);
        var onlyStopped = await JsonOfAsync("runs", "jobs", run, "--status", "Stopped");
        var again = await RunAsync("jobs", "rerun", job);

        Assert.True(runs.Exit == 0, runs.Output);
        Assert.Contains(run, runs.Output, StringComparison.Ordinal);
        Assert.Contains("1 run(s)", runs.Output, StringComparison.Ordinal);
        Assert.Equal(2, (int)jobs["total"]!);
        Assert.Contains("1 job(s) stopped now", stopped.Output, StringComparison.Ordinal);
        Assert.Equal(job, (string?)Assert.Single(onlyStopped["items"]!.AsArray())!["id"]);
        Assert.True(again.Exit == 0, again.Output);
        Assert.Contains("1 job(s) on 1 mapping(s)", again.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Audit_list_shows_the_entries_of_an_action_newest_first()
    {
        await LoginAsync();
        var name = "audited-" + Guid.NewGuid().ToString("N")[..6];
        await RunAsync("policies", "create", "--name", name);

        var table = await RunAsync("audit", "list", "--action", "policy.");
        var page = await JsonOfAsync("audit", "list", "--action", "policy.", "--page-size", "5");

        Assert.True(table.Exit == 0, table.Output);
        Assert.Contains(name, table.Output, StringComparison.Ordinal);
        Assert.All(page["items"]!.AsArray(), e => Assert.StartsWith("policy.", (string?)e!["action"], StringComparison.Ordinal));
        Assert.Contains(name, (string?)page["items"]![0]!["details"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_is_created_shown_once_listed_and_revoked_and_then_refused()
    {
        await LoginAsync();
        var name = "script-" + Guid.NewGuid().ToString("N")[..6];

        var created = await JsonOfAsync("tokens", "create", name, "--expires-in-days", "7");
        var secret = (string)created["token"]!;
        var listed = await RunAsync("tokens", "list");
        using var withToken = Host.ClientWith(secret);
        var before = await withToken.GetAsync(new Uri("/api/v1/auth/me", UriKind.Relative));
        var revoked = await RunAsync("tokens", "revoke", (string)created["id"]!);
        var after = await withToken.GetAsync(new Uri("/api/v1/auth/me", UriKind.Relative));

        Assert.Contains(name, listed.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, listed.Output, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.OK, before.StatusCode);
        Assert.True(revoked.Exit == 0, revoked.Output);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task Whoami_accounts_show_and_agents_show_say_who_and_what()
    {
        await LoginAsync();
        var source = await Host.Client.PostJsonAsync("/api/v1/connections",
            new { name = "CLI show " + Guid.NewGuid().ToString("N")[..6], role = "Source", kind = "ActiveDirectory" });
        var device = "CLI-SHOW-" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();
        var agent = await EnrolledAgentAsync(source.GetProperty("configurationKey").GetString()!, device);

        var whoami = await RunAsync("whoami");
        var account = await JsonOfAsync("accounts", "show", "admin");
        var shown = await RunAsync("agents", "show", agent);

        Assert.True(whoami.Exit == 0, whoami.Output);
        Assert.Contains("as admin", whoami.Output, StringComparison.Ordinal);
        Assert.Equal("Administrator", (string?)account["role"]);
        Assert.True(shown.Exit == 0, shown.Output);
        Assert.Contains(device, shown.Output, StringComparison.Ordinal);
        Assert.Contains("9.9.9", shown.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_watched_run_prints_progress_on_standard_error_and_its_status_as_JSON()
    {
        await LoginAsync();
        var project = await Host.Client.CreateProjectAsync();
        var ids = await Host.Client.ImportDevicesAsync(project, "WCH" + Guid.NewGuid().ToString("N")[..6], 1);
        var started = await Host.Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain" }, mappingIds = ids });
        var run = started.GetProperty("run").Id().ToString();
        await RunAsync("stop", run);

        var (exit, output, errors) = await RunSplitAsync("status", run, "--watch", "-o", "json");

        Assert.Equal(0, exit);
        var status = JsonNode.Parse(output)!;
        Assert.True((bool)status["isOver"]!);
        Assert.Equal(1, (int)status["jobsByKindAndStatus"]!["RejoinDomain"]!["Stopped"]!);
        Assert.DoesNotContain("│", output, StringComparison.Ordinal);
        Assert.Empty(errors);
    }
}
