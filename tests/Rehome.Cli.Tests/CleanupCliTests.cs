using System.IO.Compression;
using System.Text.Json.Nodes;
using Rehome.Core.Runs;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Cli.Tests;

/// <summary>After the migration from the CLI: remove completed mappings, archive, download and unarchive a project, uninstall an agent.</summary>
public sealed partial class CliTests
{
    [Fact]
    public async Task Completed_mappings_are_removed_and_the_kept_ones_counted_by_reason()
    {
        await LoginAsync();
        var project = await Host.Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Host.Client.ImportDevicesAsync(project, "RC" + Guid.NewGuid().ToString("N")[..5].ToUpperInvariant(), 3);
        await Host.Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain" }, mappingIds = ids[..2] });
        await Host.EndNextJobAsync(ids[0], JobStatus.Finished);
        await Host.EndNextJobAsync(ids[1], JobStatus.Failed);

        var table = await RunAsync("mappings", "remove-completed", project.ToString(), "--mapping", ids[1].ToString());
        var json = await RunAsync("mappings", "remove-completed", project.ToString(), "--output", "json");

        Assert.True(table.Exit == 0, table.Output);
        Assert.Contains("0 completed mapping(s) removed; 1 kept.", table.Output, StringComparison.Ordinal);
        Assert.Contains("Failed", table.Output, StringComparison.Ordinal);
        var result = JsonNode.Parse(json.Output)!;
        Assert.Equal(1, (int)result["done"]!);
        Assert.Equal(1, (int)result["keptByReason"]!["NeverRun"]!);
    }

    [Fact]
    public async Task A_project_is_archived_by_name_downloaded_as_a_zip_listed_only_among_the_archived_reported_by_name_and_unarchived()
    {
        await LoginAsync();
        var project = await Host.Client.CreateProjectAsync();
        var name = (await Host.Client.GetJsonAsync($"/api/v1/projects/{project}")).GetProperty("name").GetString()!;
        var zip = Path.Combine(Path.GetDirectoryName(_config)!, "archive.zip");

        var archived = await RunAsync("projects", "archive", name);
        var downloaded = await RunAsync("projects", "download", name, "--file", zip);
        var listed = await RunAsync("projects", "list");
        var listedArchived = await RunAsync("projects", "list", "--archived");
        var reported = await RunAsync("report", "project", name);
        var unarchived = await RunAsync("projects", "unarchive", name);
        var again = await RunAsync("projects", "unarchive", name);

        Assert.True(archived.Exit == 0, archived.Output);
        Assert.Contains("Archived", archived.Output, StringComparison.Ordinal);
        Assert.True(downloaded.Exit == 0, downloaded.Output);
        using (var entries = ZipFile.OpenRead(zip))
        {
            Assert.Contains(entries.Entries, e => e.FullName == "project-report.csv");
        }
        Assert.DoesNotContain(name, listed.Output, StringComparison.Ordinal);
        Assert.Contains(name, listedArchived.Output, StringComparison.Ordinal);
        Assert.True(reported.Exit == 0, reported.Output);
        Assert.True(unarchived.Exit == 0, unarchived.Output);
        Assert.NotEqual(0, again.Exit);
        Assert.Contains("is not archived", again.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_agent_is_told_to_uninstall_and_giving_both_an_agent_and_a_project_is_refused()
    {
        await LoginAsync();
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));

        var both = await RunAsync("agents", "uninstall", device.AgentId.ToString(), "--project", device.ProjectId.ToString());
        var told = await RunAsync("agents", "uninstall", device.AgentId.ToString());

        Assert.NotEqual(0, both.Exit);
        Assert.True(told.Exit == 0, told.Output);
        Assert.Contains("is told to uninstall", told.Output, StringComparison.Ordinal);
        Assert.NotNull((await Host.Client.GetJsonAsync($"/api/v1/agents/{device.AgentId}")).GetProperty("uninstall").GetProperty("requestedAt").GetString());
    }
}
