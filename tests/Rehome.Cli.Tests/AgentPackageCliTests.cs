using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Rehome.Cli.Commands;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Cli.Tests;

/// <summary><c>rehome agent-packages</c>, <c>rehome mappings stop</c> and <c>rehome mappings list --readiness</c>.</summary>
public sealed partial class CliTests
{
    private static string NewVersion() => $"8.{RandomNumberGenerator.GetInt32(1, 1_000_000)}.{RandomNumberGenerator.GetInt32(1, 1_000_000)}";

    private async Task<string> ZipFileAsync(string version, string name = "agent.zip")
    {
        var path = Path.Combine(Folder, name);
        await File.WriteAllBytesAsync(path, AgentPublisher.Zip(version));
        return path;
    }

    private static JsonNode? PackageIn(JsonNode list, string id) => list["packages"]!.AsArray().FirstOrDefault(p => (string?)p!["id"] == id);

    [Fact]
    public async Task An_agent_package_is_uploaded_listed_with_the_fleet_made_current_cleared_and_deleted()
    {
        await LoginAsync();
        var version = NewVersion();
        var zip = await ZipFileAsync(version);
        // The signature as raw DER bytes in a file, as openssl dgst -sign writes it.
        var signatureFile = Path.Combine(Folder, "agent.sig");
        await File.WriteAllBytesAsync(signatureFile, Convert.FromBase64String(server.Publisher.Sign(await File.ReadAllBytesAsync(zip))));

        var uploaded = await RunAsync("agent-packages", "upload", "--file", zip, "--version", version, "--signature-file", signatureFile);
        var id = (string)(await JsonOfAsync("agent-packages", "list"))["packages"]!.AsArray().First(p => (string?)p!["version"] == version)!["id"]!;
        var made = await RunAsync("agent-packages", "make-current", id);
        var listed = await RunAsync("agent-packages", "list");
        var current = PackageIn(await JsonOfAsync("agent-packages", "list"), id)!;
        var refused = await RunAsync("agent-packages", "delete", id);
        var cleared = await RunAsync("agent-packages", "make-current", "--clear");
        var notCurrent = PackageIn(await JsonOfAsync("agent-packages", "list"), id)!;
        var deleted = await RunAsync("agent-packages", "delete", id);
        var gone = PackageIn(await JsonOfAsync("agent-packages", "list"), id);

        Assert.True(uploaded.Exit == 0, uploaded.Output);
        Assert.Contains($"Uploaded agent package {version}", uploaded.Output, StringComparison.Ordinal);
        Assert.True(made.Exit == 0, made.Output);
        Assert.Contains(version, listed.Output, StringComparison.Ordinal);
        Assert.Contains($"Fleet: current version {version};", listed.Output, StringComparison.Ordinal);
        Assert.True((bool)current["isCurrent"]!);
        Assert.Equal(ExitCodes.Refused, refused.Exit);
        Assert.True(cleared.Exit == 0, cleared.Output);
        Assert.False((bool)notCurrent["isCurrent"]!);
        Assert.True(deleted.Exit == 0, deleted.Output);
        Assert.Null(gone);
    }

    [Fact]
    public async Task A_package_is_made_current_for_one_source_connections_agents_only()
    {
        await LoginAsync();
        var package = (await server.Publisher.PublishAsync(Host.Client, NewVersion())).Id().ToString();
        var connection = (await Host.Client.PostJsonAsync("/api/v1/connections",
            new { name = "pkg src " + Guid.NewGuid().ToString("N")[..6], role = "Source", kind = "ActiveDirectory" })).GetProperty("connection").Id().ToString();

        var (exit, output) = await RunAsync("agent-packages", "make-current", package, "--connection", connection);
        var listed = PackageIn(await JsonOfAsync("agent-packages", "list"), package)!;

        Assert.True(exit == 0, output);
        Assert.Contains($"connection {connection}'s agents", output, StringComparison.Ordinal);
        Assert.Equal(connection, (string?)listed["connections"]![0]);
        Assert.False((bool)listed["isCurrent"]!);
    }

    [Fact]
    public async Task An_upload_with_a_bad_signature_or_none_and_a_make_current_without_a_package_or_clear_are_refused()
    {
        await LoginAsync();
        var version = NewVersion();
        var zip = await ZipFileAsync(version);
        var otherSignature = server.Publisher.Sign(AgentPublisher.Zip(version));

        var unsigned = await RunAsync("agent-packages", "upload", "--file", zip, "--version", version);
        var badlySigned = await RunSplitAsync("agent-packages", "upload", "--file", zip, "--version", version, "--signature", otherSignature, "-o", "json");
        var neither = await RunAsync("agent-packages", "make-current");
        var both = await RunAsync("agent-packages", "make-current", Guid.NewGuid().ToString(), "--clear");
        var listed = await JsonOfAsync("agent-packages", "list");

        Assert.Equal(ExitCodes.Refused, unsigned.Exit);
        Assert.Contains("--signature", unsigned.Output, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Refused, badlySigned.Exit);
        Assert.NotNull(JsonNode.Parse(badlySigned.Out)!["problem"]);
        Assert.Equal(ExitCodes.Refused, neither.Exit);
        Assert.Equal(ExitCodes.Refused, both.Exit);
        Assert.DoesNotContain(listed["packages"]!.AsArray(), p => (string?)p!["version"] == version);
    }

    [Fact]
    public async Task Mappings_stop_stops_the_jobs_of_the_mappings_named_or_of_those_matching_a_filter_and_prints_the_counts()
    {
        await LoginAsync();
        var project = await Host.Client.CreateProjectAsync();
        var prefix = "STP" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();
        var ids = await Host.Client.ImportDevicesAsync(project, prefix, 3);
        await Host.Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain" }, mappingIds = ids });

        var named = await RunAsync("mappings", "stop", project.ToString(), "--mappings", ids[0].ToString());
        var filtered = await JsonOfAsync("mappings", "stop", project.ToString(), "--search", prefix);
        var again = await RunAsync("mappings", "stop", project.ToString(), "--search", prefix);
        var both = await RunAsync("mappings", "stop", project.ToString(), "--mappings", ids[0].ToString(), "--search", prefix);
        var badFilter = await RunAsync("mappings", "stop", project.ToString(), "--readiness", "Bogus");

        Assert.True(named.Exit == 0, named.Output);
        Assert.Contains("1 job(s) stopped now; 0 running job(s) asked to stop.", named.Output, StringComparison.Ordinal);
        Assert.Equal(2, (int)filtered["stoppedNow"]!);
        Assert.Contains("0 job(s) stopped now", again.Output, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Refused, both.Exit);
        Assert.Equal(ExitCodes.Refused, badFilter.Exit);
        Assert.Contains("filter.readiness", badFilter.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mappings_list_takes_a_readiness_filter_and_refuses_an_unknown_outcome()
    {
        await LoginAsync();
        var project = await Host.Client.CreateProjectAsync();
        await Host.Client.ImportDevicesAsync(project, "RDF" + Guid.NewGuid().ToString("N")[..6], 2);

        var notChecked = await JsonOfAsync("mappings", "list", project.ToString(), "--readiness", "NotChecked");
        var ready = await JsonOfAsync("mappings", "list", project.ToString(), "--readiness", "Ready");
        var (exit, output) = await RunAsync("mappings", "list", project.ToString(), "--readiness", "Bogus");

        Assert.Equal(2, (int)notChecked["total"]!);
        Assert.Equal(0, (int)ready["total"]!);
        Assert.Equal(ExitCodes.Refused, exit);
        Assert.Contains("readiness", output, StringComparison.Ordinal);
    }
}
