using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rehome.Cli.Commands;
using Rehome.Core.Runs;
using Rehome.Server.Tests.Infrastructure;
using Rehome.Server.Tests.Notifications;
using Spectre.Console;

namespace Rehome.Cli.Tests;

/// <summary><c>--output json</c> on every command of the tree, and the exit codes.</summary>
public sealed partial class CliTests
{
    /// <summary>Runs the CLI with standard output and standard error apart, as a script sees them.</summary>
    private async Task<(int Exit, string Out, string Err)> RunSplitAsync(params string[] args)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        var exit = await CliApp.RunAsync([.. args, "--config", _config], RecordingConsole(output), RecordingConsole(errors));
        return (exit, output.ToString(), errors.ToString());
    }

    /// <summary>Every command of the tree with no subcommands, as the words that name it ("mappings edit").</summary>
    private static List<string> Leaves()
    {
        var root = CliApp.Build(new CliContext(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) })));
        var leaves = new List<string>();
        void Walk(Command command, string path)
        {
            foreach (var sub in command.Subcommands)
            {
                var name = path.Length == 0 ? sub.Name : $"{path} {sub.Name}";
                if (sub.Subcommands.Count == 0)
                {
                    leaves.Add(name);
                }
                Walk(sub, name);
            }
        }
        Walk(root, "");
        return leaves;
    }

    private string Folder => Path.GetDirectoryName(_config)!;

    private async Task<string> FileAsync(string name, string content)
    {
        var path = Path.Combine(Folder, name);
        await File.WriteAllTextAsync(path, content);
        return path;
    }

    private async Task<string> EnrolledAgentAsync(string key, string device, string hardwareId = "4C4C4544-0042-3010-8052-B4C04F383232")
    {
        var enrolled = await Host.EnrollAsync(key, new Rehome.Protocol.DeviceFacts { DeviceName = device, OsVersion = "Windows 11", AgentVersion = "9.9.9" },
            hardwareId: hardwareId);
        return JsonDocument.Parse(await enrolled.Content.ReadAsStringAsync()).RootElement.GetProperty("agentId").GetString()!;
    }

    [Fact]
    public async Task Every_command_takes_output_json_and_prints_one_JSON_document_on_standard_output_and_nothing_else()
    {
        await LoginAsync();
        var tag = Guid.NewGuid().ToString("N")[..6];
        await using var receiver = await WebhookReceiver.StartAsync(WebhookSecret);
        var project = await Host.Client.CreateProjectAsync("EntraId", "Offline");
        var other = await Host.Client.CreateProjectAsync();
        var spare = await Host.Client.CreateProjectAsync();
        var archivable = await Host.Client.CreateProjectAsync();
        var projectView = await Host.Client.GetJsonAsync($"/api/v1/projects/{project}");
        var ids = await Host.Client.ImportDevicesAsync(project, "JSN" + tag, 6);
        var sourceKey = (await Host.Client.PostJsonAsync("/api/v1/connections",
            new { name = "json src " + tag, role = "Source", kind = "ActiveDirectory" })).GetProperty("configurationKey").GetString()!;
        var sourceId = projectView.GetProperty("sourceConnectionId").GetGuid().ToString();
        var destinationId = projectView.GetProperty("destinationConnectionId").GetGuid().ToString();
        var policyId = projectView.GetProperty("policyId").GetGuid().ToString();
        var spareConnection = (await Host.Client.PostJsonAsync("/api/v1/connections", ApiClient.DestinationConnection("ActiveDirectory", "Offline")))
            .GetProperty("connection").Id().ToString();
        var sparePolicy = (await Host.Client.PostJsonAsync("/api/v1/policies", new { name = "json spare " + tag })).Id().ToString();
        var connectionFile = await FileAsync("connection.json", $$"""{"name": "json made {{tag}}", "role": "Source", "kind": "ActiveDirectory"}""");
        var updateFile = await FileAsync("update.json",
            JsonSerializer.Serialize(ApiClient.DestinationConnection("ActiveDirectory", "Offline")));
        var package = await FileAsync("package.ppkg", "PPKG");
        var csv = await FileAsync("import.csv", $"SourceDevice\nJSI{tag}01\n");
        var agent = await EnrolledAgentAsync(sourceKey, "JSA1" + tag);
        var removable = await EnrolledAgentAsync(sourceKey, "JSA2" + tag);
        await EnrolledAgentAsync(sourceKey, "JSA3" + tag);
        await EnrolledAgentAsync(sourceKey, "JSA4" + tag);
        var approvable = await EnrolledAgentAsync(sourceKey, "JSA3" + tag, "OTHER-HW-3");
        var refusable = await EnrolledAgentAsync(sourceKey, "JSA4" + tag, "OTHER-HW-4");
        var uninstallable = await EnrolledAgentAsync(sourceKey, "JSA5" + tag);
        await Host.Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain", "MigratePermissions" }, mappingIds = new[] { ids[0] } });
        await EndNextJobAsync(ids[0], JobStatus.Finished);
        var permissions = (await EndNextJobAsync(ids[0], JobStatus.Finished)).ToString();
        var started = await Host.Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain" }, mappingIds = new[] { ids[3] } });
        var run = started.GetProperty("run").Id().ToString();
        var single = await Host.Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain" }, mappingIds = new[] { ids[4] } });
        var job = (await Host.Client.GetJsonAsync($"/api/v1/runs/{single.GetProperty("run").Id()}/jobs")).GetProperty("items")[0].Id().ToString();
        var token = (await Host.Client.PostJsonAsync("/api/v1/tokens", new { name = "json " + tag })).Id().ToString();
        var account = "json-" + tag;
        var me = await Host.CreateAsync(Rehome.Server.Auth.Role.Viewer);
        var hook = "json hook " + tag;
        var data = Path.Combine(Folder, "demo");
        var packageVersion = NewVersion();
        var packageZip = await ZipFileAsync(packageVersion);
        var packageSignature = server.Publisher.Sign(await File.ReadAllBytesAsync(packageZip));
        var currentPackage = (await server.Publisher.PublishAsync(Host.Client, NewVersion())).Id().ToString();
        var removablePackage = (await server.Publisher.PublishAsync(Host.Client, NewVersion())).Id().ToString();

        var cases = new List<(string Path, int Exit, string[] Args)>
        {
            ("connections list", 0, []),
            ("connections show", 0, [sourceId]),
            ("connections create", 0, ["--file", connectionFile]),
            ("connections update", 0, [spareConnection, "--file", updateFile]),
            ("connections rotate-key", 0, [sourceId]),
            ("connections package set", 0, [destinationId, "--file", package]),
            ("connections package remove", 0, [destinationId]),
            ("connections test", ExitCodes.CheckFailed, [destinationId]),
            ("connections delete", 0, [spareConnection]),
            ("policies list", 0, []),
            ("policies show", 0, [policyId]),
            ("policies create", 0, ["--name", "json made " + tag, "--areas", "Shares"]),
            ("policies update", 0, [sparePolicy, "--areas", "Printers"]),
            ("policies delete", 0, [sparePolicy]),
            ("projects list", 0, []),
            ("projects show", 0, [project.ToString()]),
            ("projects create", 0, ["--name", "json made " + tag, "--source", sourceId, "--destination", destinationId, "--policy", policyId]),
            ("projects update", 0, [other.ToString(), "--tag", "wave-2"]),
            ("mappings list", 0, [project.ToString()]),
            ("mappings show", 0, [ids[1].ToString()]),
            ("mappings add", 0, [project.ToString(), "--source-device", $"JSN{tag}ADD"]),
            ("mappings edit", 0, [ids[1].ToString(), "--destination-name", $"JSD{tag}"]),
            ("mappings move", 0, [ids[2].ToString(), other.ToString()]),
            ("mappings delete", 0, [ids[5].ToString()]),
            ("mappings import", 0, [project.ToString(), csv]),
            ("mappings export", 0, [project.ToString(), "--out", Path.Combine(Folder, "export.csv")]),
            ("mappings report", 0, [ids[0].ToString()]),
            ("mappings discover", ExitCodes.Refused, [project.ToString(), "--ou", "OU=Workstations,DC=contoso,DC=example"]),
            ("mappings remove-completed", 0, [project.ToString(), "--mapping", ids[1].ToString()]),
            ("projects archive", 0, [archivable.ToString()]),
            ("projects download", 0, [archivable.ToString(), "--file", Path.Combine(Folder, "archive.zip")]),
            ("projects unarchive", 0, [archivable.ToString()]),
            ("mappings stop", 0, [project.ToString(), "--search", "NO-SUCH-DEVICE"]),
            ("projects delete", 0, [spare.ToString()]),
            ("agents list", 0, ["--search", tag]),
            ("agents show", 0, [agent]),
            ("agents revoke", 0, [agent]),
            ("agents remove", 0, [removable]),
            ("agents approve", 0, [approvable]),
            ("agents refuse", 0, [refusable]),
            ("agents uninstall", 0, [uninstallable]),
            ("agent-packages list", 0, []),
            ("agent-packages upload", 0, ["--file", packageZip, "--version", packageVersion, "--signature", packageSignature]),
            ("agent-packages make-current", 0, [currentPackage]),
            ("agent-packages delete", 0, [removablePackage]),
            ("accounts create", 0, [account, "--role", "Viewer", "--password", "First-Passw0rd-of-it"]),
            ("accounts list", 0, []),
            ("accounts show", 0, [account]),
            ("accounts set-role", 0, [account, "Operator"]),
            ("accounts disable", 0, [account]),
            ("accounts enable", 0, [account]),
            ("accounts reset-password", 0, [account, "--password", "Second-Passw0rd-of-it"]),
            ("accounts delete", 0, [account]),
            ("tokens list", 0, []),
            ("tokens create", 0, ["json made " + tag, "--expires-in-days", "1"]),
            ("tokens revoke", 0, [token]),
            ("notifications add", 0, [hook, "--event", "JobFailed", "--webhook", receiver.Url, "--secret", WebhookSecret]),
            ("notifications list", 0, []),
            ("notifications show", 0, [hook]),
            ("notifications update", 0, [hook, "--event", "RunFinished"]),
            ("notifications test", 0, [hook]),
            ("notifications deliveries", 0, [hook]),
            ("notifications remove", 0, [hook]),
            ("identities", 0, [project.ToString()]),
            ("readiness", ExitCodes.CheckFailed, [project.ToString()]),
            ("run", 0, [project.ToString(), "--jobs", "MigratePermissions", "--mappings", ids[1].ToString(), "--preview"]),
            ("status", 0, [run]),
            ("runs list", 0, [project.ToString()]),
            ("runs jobs", 0, [run]),
            ("stop", 0, [run]),
            ("rerun", 0, [run]),
            ("jobs show", 0, [job]),
            ("jobs stop", 0, [job]),
            ("jobs rerun", 0, [job]),
            ("jobs revert", 0, [permissions]),
            ("report run", 0, [run, "--out", Path.Combine(Folder, "run.csv")]),
            ("report project", 0, [project.ToString(), "--format", "html", "--out", Path.Combine(Folder, "project.html")]),
            ("audit list", 0, ["--action", "mapping."]),
            ("audit export", 0, ["--action", "mapping.", "--out", Path.Combine(Folder, "audit.csv")]),
            ("demo", 0, ["--devices", "2", "--urls", "http://127.0.0.1:0", "--data", data, "--exit"]),
            ("rehearse", 0, ["--devices", "1", "--jobs", "RejoinDomain", "--urls", "http://127.0.0.1:0", "--data", Path.Combine(Folder, "rehearsal"), "--exit"]),
            ("whoami", 0, []),
            ("login", 0, ["--server", Host.BaseAddress.ToString(), "--user", me.UserName, "--password", me.Password]),
            ("password", 0, ["--current", me.Password, "--new", "Changed-Passw0rd-of-it"]),
            ("logout", 0, []),
        };

        Assert.Equal(Leaves().Order(), cases.Select(c => c.Path).Order());
        foreach (var (path, expected, args) in cases)
        {
            var (exit, output, errors) = await RunSplitAsync([.. path.Split(' '), .. args, "--output", "json"]);

            Assert.True(exit == expected, $"rehome {path}: exit {exit}, not {expected}\n{output}\n{errors}");
            JsonNode? answer = null;
            var parsed = Record.Exception(() => answer = JsonNode.Parse(output));
            Assert.True(parsed is null, $"rehome {path} --output json printed no single JSON document:\n{output}");
            if (exit is not (ExitCodes.Ok or ExitCodes.CheckFailed))
            {
                Assert.Equal(exit, (int)answer!["exitCode"]!);
            }
        }
    }

    [Fact]
    public async Task An_error_with_output_json_is_a_JSON_document_with_its_exit_code_and_the_servers_problem()
    {
        await LoginAsync();
        var project = await Host.Client.CreateProjectAsync();
        var ids = await Host.Client.ImportDevicesAsync(project, "JER" + Guid.NewGuid().ToString("N")[..6], 1);

        var (exit, output, errors) = await RunSplitAsync("mappings", "edit", ids[0].ToString(), "--source-device", "BAD_NAME", "-o", "json");

        Assert.Equal(ExitCodes.Refused, exit);
        var answer = JsonNode.Parse(output)!;
        Assert.Equal(ExitCodes.Refused, (int)answer["exitCode"]!);
        Assert.Equal("sourceDevice", (string?)answer["problem"]!["errors"]![0]!["field"]);
        Assert.Contains("error:", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exit_codes_tell_usage_refusal_sign_in_not_found_and_an_unreachable_server_apart()
    {
        var notSignedIn = await RunAsync("projects", "list");
        await LoginAsync();
        var usage = await RunAsync("projects", "list", "--no-such-option");
        var missing = await RunAsync("mappings", "show");
        var badValue = await RunAsync("projects", "list", "--output", "xml");
        var notFound = await RunAsync("mappings", "show", Guid.NewGuid().ToString());
        var unknownProject = await RunAsync("projects", "show", "no-such-project-" + Guid.NewGuid().ToString("N"));
        var refused = await RunAsync("policies", "create", "--name", "");
        var viewer = await Host.CreateAsync(Rehome.Server.Auth.Role.Viewer);
        var unreachable = await RunAsync("projects", "list", "--server", "http://127.0.0.1:1");
        Environment.SetEnvironmentVariable("REHOME_TOKEN", viewer.Token);
        (int Exit, string Output) forbidden;
        try
        {
            forbidden = await RunAsync("accounts", "list");
        }
        finally
        {
            Environment.SetEnvironmentVariable("REHOME_TOKEN", null);
        }

        Assert.Equal(ExitCodes.NotAllowed, notSignedIn.Exit);
        Assert.Equal(ExitCodes.Usage, usage.Exit);
        Assert.Contains("--no-such-option", usage.Output, StringComparison.Ordinal);
        Assert.Contains("'rehome projects list --help'", usage.Output, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, missing.Exit);
        Assert.Equal(ExitCodes.Usage, badValue.Exit);
        Assert.Equal(ExitCodes.NotFound, notFound.Exit);
        Assert.Equal(ExitCodes.NotFound, unknownProject.Exit);
        Assert.Equal(ExitCodes.Refused, refused.Exit);
        Assert.Contains("name", refused.Output, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Unavailable, unreachable.Exit);
        Assert.Equal(ExitCodes.NotAllowed, forbidden.Exit);
    }

    [Fact]
    public async Task The_help_lists_every_exit_code_with_its_meaning()
    {
        var (exit, output) = await RunAsync("--help");

        Assert.Equal(0, exit);
        Assert.Contains("Exit codes:", output, StringComparison.Ordinal);
        // The help wraps long lines: compare with every run of spaces and line breaks as one space.
        var text = System.Text.RegularExpressions.Regex.Replace(output, @"\s+", " ");
        foreach (var (code, meaning) in ExitCodes.All)
        {
            Assert.Contains($"{code} {meaning}", text, StringComparison.Ordinal);
        }
    }
}
