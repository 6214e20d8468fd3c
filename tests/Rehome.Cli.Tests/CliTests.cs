using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Cli.Client;
using Rehome.Cli.Commands;
using Rehome.Core.Runs;
using Rehome.Server.Runs;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;
using Spectre.Console;

namespace Rehome.Cli.Tests;

/// <summary>The <c>rehome</c> commands against a real server on loopback (one that trusts a test publisher of agent packages).</summary>
public sealed partial class CliTests(PublisherServer server) : IClassFixture<PublisherServer>, IDisposable
{
    private readonly string _config = Path.Combine(Path.GetTempPath(), "rehome-cli-tests", Guid.NewGuid().ToString("N"), "config.json");

    private ServerHost Host => server.Host;

    private async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        var text = new StringWriter();
        var exit = await CliApp.RunAsync([.. args, "--config", _config], RecordingConsole(text));
        return (exit, text.ToString());
    }

    /// <summary>A console that writes plain text, 200 columns wide, to <paramref name="writer"/>, and never prompts.</summary>
    private static IAnsiConsole RecordingConsole(StringWriter writer)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(writer),
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 200;
        return console;
    }

    private async Task LoginAsync()
    {
        var (exit, output) = await RunAsync("login", "--server", Host.BaseAddress.ToString(), "--user", "admin", "--password", ServerHost.AdminPassword);
        Assert.True(exit == 0, output);
    }

    [Fact]
    public async Task Login_keeps_the_token_in_a_file_only_its_owner_can_read()
    {
        await LoginAsync();

        var config = CliConfig.Load(_config);
        Assert.NotNull(config);
        Assert.StartsWith("rht_", config.Token, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_config));
        }
        var (exit, output) = await RunAsync("projects", "list");
        Assert.Equal(0, exit);
        Assert.Contains("Mappings", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_puts_each_option_and_command_on_a_line_of_its_own()
    {
        var (exit, output) = await RunAsync("--help");

        Assert.Equal(0, exit);
        var lines = output.Split('\n').Select(l => l.Trim()).ToList();
        Assert.Contains("Usage:", lines);
        Assert.Contains("Commands:", lines);
        Assert.Contains(lines, l => l.StartsWith("projects", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("mappings", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_wrong_password_is_refused_and_nothing_is_saved()
    {
        var (exit, output) = await RunAsync("login", "--server", Host.BaseAddress.ToString(), "--user", "admin", "--password", "nope");

        Assert.Equal(ExitCodes.NotAllowed, exit);
        Assert.Contains("user name or password is wrong", output, StringComparison.Ordinal);
        Assert.False(File.Exists(_config));
    }

    [Fact]
    public async Task Commands_without_a_login_say_how_to_sign_in()
    {
        var (exit, output) = await RunAsync("projects", "list");

        Assert.Equal(ExitCodes.NotAllowed, exit);
        Assert.Contains("rehome login", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_import_lists_every_bad_row_and_imports_nothing()
    {
        await LoginAsync();
        var project = await Host.Client.CreateProjectAsync();
        var file = Path.Combine(Path.GetDirectoryName(_config)!, "bad.csv");
        await File.WriteAllTextAsync(file, "SourceDevice,DestinationOU\nGOOD-01,\nBAD_NAME,\nGOOD-02,Laptops\n");

        var (exit, output) = await RunAsync("mappings", "import", project.ToString(), file);

        Assert.Equal(2, exit);
        Assert.Contains("│ 3 ", output, StringComparison.Ordinal);
        Assert.Contains("│ 4 ", output, StringComparison.Ordinal);
        Assert.Contains("DestinationOU", output, StringComparison.Ordinal);
        var list = await RunAsync("mappings", "list", project.ToString());
        Assert.Contains("0 mapping(s) match", list.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_run_preview_run_and_status_work_end_to_end()
    {
        await LoginAsync();
        var project = await Host.Client.CreateProjectAsync();
        var file = Path.Combine(Path.GetDirectoryName(_config)!, "good.csv");
        var csv = new StringBuilder("SourceDevice,PrimaryUser,DestinationUser\n");
        for (var i = 1; i <= 5; i++)
        {
            csv.Append($"CLI-{project.ToString()[..4]}-{i},CONTOSO\\u{i},u{i}@fabrikam.example\n");
        }
        await File.WriteAllTextAsync(file, csv.ToString());
        Assert.Equal(0, (await RunAsync("mappings", "import", project.ToString(), file)).Exit);

        var preview = await RunAsync("run", project.ToString(), "--jobs", "RejoinDomain,MigratePermissions,RegisterAutopilot", "--preview");
        Assert.Equal(0, preview.Exit);
        Assert.Contains("Would start 10 job(s) on 5 mapping(s); 5 refused", preview.Output, StringComparison.Ordinal);
        Assert.Contains("AutopilotNeedsEntraIdOffline", preview.Output, StringComparison.Ordinal);

        var started = await RunAsync("run", project.ToString(), "--jobs", "RejoinDomain,MigratePermissions");
        Assert.Equal(0, started.Exit);
        var runId = started.Output.Split("Run ")[1].Split('.')[0].Trim();

        var status = await RunAsync("status", runId);
        Assert.Equal(0, status.Exit);
        Assert.Contains("Waiting for destination", status.Output, StringComparison.Ordinal);
        Assert.Contains("Waiting for prerequisite", status.Output, StringComparison.Ordinal);

        var stop = await RunAsync("stop", runId);
        Assert.Contains("10 job(s) stopped now", stop.Output, StringComparison.Ordinal);
        var export = await RunAsync("mappings", "export", project.ToString());
        Assert.Contains("Stopped", export.Output, StringComparison.Ordinal);
    }

    private async Task<Guid> EndNextJobAsync(Guid mapping, JobStatus status, List<JobAreaCount>? areas = null) =>
        (await Host.EndNextJobAsync(mapping, status, new JobProgress(3, 3, 1, 0, Areas: areas))).Id;

    [Fact]
    public async Task A_dry_run_started_from_the_CLI_shows_in_the_mapping_report_with_what_each_area_would_change()
    {
        await LoginAsync();
        var project = await Host.Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Host.Client.ImportDevicesAsync(project, "DRY" + project.ToString()[..4], 1);

        var started = await RunAsync("run", project.ToString(), "--jobs", "MigratePermissions", "--mappings", ids[0].ToString(), "--dry-run");
        await EndNextJobAsync(ids[0], JobStatus.Finished, [new("Files", 1200, 40, 0), new("Printers", 0, 0, 0, "this device's agent cannot migrate it")]);
        var report = await RunAsync("mappings", "report", ids[0].ToString());
        var refused = await RunAsync("run", project.ToString(), "--jobs", "RejoinDomain", "--mappings", ids[0].ToString(), "--dry-run");

        Assert.True(started.Exit == 0, started.Output);
        Assert.Contains("Started 1 job(s) on 1 mapping(s)", started.Output, StringComparison.Ordinal);
        Assert.Contains("A dry run: each device counts, per area, what would change and changes nothing", started.Output, StringComparison.Ordinal);
        Assert.True(report.Exit == 0, report.Output);
        Assert.Contains("Dry run (preview)", report.Output, StringComparison.Ordinal);
        Assert.Contains("Would change", report.Output, StringComparison.Ordinal);
        Assert.Matches(@"Files\s*│\s*1,200\s*│\s*40", report.Output.Replace('|', '│'));
        Assert.Contains("not done — this device's agent cannot migrate it", report.Output, StringComparison.Ordinal);
        Assert.Equal(2, refused.Exit);
        Assert.Contains("DryRunNotSupported", refused.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Jobs_revert_starts_the_revert_of_a_finished_permissions_job_and_a_second_one_is_refused_with_the_reason()
    {
        await LoginAsync();
        var project = await Host.Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Host.Client.ImportDevicesAsync(project, "REV" + project.ToString()[..4], 1);
        await Host.Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain", "MigratePermissions" }, mappingIds = ids });
        await EndNextJobAsync(ids[0], JobStatus.Finished);
        var permissions = await EndNextJobAsync(ids[0], JobStatus.Finished);

        var revert = await RunAsync("jobs", "revert", permissions.ToString());
        var again = await RunAsync("jobs", "revert", permissions.ToString());
        var show = await RunAsync("jobs", "show", permissions.ToString());

        Assert.True(revert.Exit == 0, revert.Output);
        Assert.Contains("Revert started: run ", revert.Output, StringComparison.Ordinal);
        Assert.Equal(2, again.Exit);
        Assert.Contains("already waiting or in progress", again.Output, StringComparison.Ordinal);
        Assert.Contains("reverted by job", show.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Policies_are_created_with_the_areas_given_and_an_unknown_area_is_named()
    {
        await LoginAsync();
        var name = "areas-" + Guid.NewGuid().ToString("N")[..6];

        var created = await RunAsync("policies", "create", "--name", name, "--areas", "Shares,ScheduledTasks,UserHives");
        var list = await RunAsync("policies", "list");
        var bad = await RunAsync("policies", "create", "--name", name + "x", "--areas", "Shares,Fax");

        Assert.True(created.Exit == 0, created.Output);
        Assert.Contains("Shares, ScheduledTasks, UserHives", list.Output, StringComparison.Ordinal);
        Assert.Equal(2, bad.Exit);
        Assert.Contains("'Fax' is not an area", bad.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rehearsal_with_its_devices_in_memory_lays_them_out_there_and_removes_them_at_the_end()
    {
        var data = Path.Combine(Path.GetTempPath(), "rehome-cli-tests", Guid.NewGuid().ToString("N"), "rehearsal");

        var (exit, output) = await RunAsync("rehearse", "--devices", "2", "--jobs", "RejoinDomain", "--devices-in-memory",
            "--urls", "http://127.0.0.1:0", "--data", data, "--exit");

        Assert.True(exit == 0, output);
        var match = System.Text.RegularExpressions.Regex.Match(output, @"laid out in memory, in (\S+), and removed");
        Assert.True(match.Success, output);
        var devices = match.Groups[1].Value;
        Assert.StartsWith("/dev/shm/rehome-rehearsal-", devices, StringComparison.Ordinal);
        // Every job is counted once by the times it was leased (how many lost a lease on the way).
        var leased = System.Text.RegularExpressions.Regex.Match(output, @"Jobs by the times they were leased: ([^.]*)\.");
        Assert.True(leased.Success, output);
        Assert.Equal(2, leased.Groups[1].Value.Split(", ").Sum(a => int.Parse(a.Split(": ")[1], System.Globalization.CultureInfo.InvariantCulture)));
        // Both devices ran from memory (nothing under --data) and the memory is given back.
        Assert.False(System.IO.Directory.Exists(Path.Combine(data, "devices")));
        Assert.False(System.IO.Directory.Exists(Path.GetDirectoryName(devices)));
        Assert.True(System.IO.Directory.Exists(Path.Combine(data, "data")), "the store stays on disk");
    }

    [Fact]
    public void The_rehearsal_table_sums_each_area_over_the_devices_and_counts_the_devices_that_could_not_do_one()
    {
        var text = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(text) });
        console.Profile.Width = 200;
        JsonNode Job(string kind, string areas) => JsonNode.Parse($$"""{"kind": "{{kind}}", "areas": {{areas}}}""")!;

        RehearseCommand.PrintAreaCounts(new CliContext(console),
        [
            Job("MigratePermissions", """[{"area": "Files", "seen": 1000, "changed": 10, "failed": 1}, {"area": "Shares", "seen": 2, "changed": 1, "failed": 0}]"""),
            Job("MigratePermissions", """[{"area": "Files", "seen": 500, "changed": 5, "failed": 0}, {"area": "Shares", "seen": 0, "changed": 0, "failed": 0, "problem": "no"}]"""),
            Job("MigrateUserProfile", """[{"area": "UserHives", "seen": 2, "changed": 2, "failed": 0}]"""),
            Job("RejoinDomain", "[]"),
        ]);

        var output = text.ToString();
        Assert.Matches(@"Migrate permissions\s*│\s*Files\s*│\s*1,500\s*│\s*15\s*│\s*1\s*│\s*·", output);
        Assert.Matches(@"Migrate permissions\s*│\s*Shares\s*│\s*2\s*│\s*1\s*│\s*0\s*│\s*1", output);
        Assert.Matches(@"Migrate Windows user profile\s*│\s*User hives\s*│\s*2\s*│\s*2", output);
    }

    [Theory]
    [InlineData(500, 0, 7000, 25)]
    [InlineData(10000, 2, 7000, 25)]
    [InlineData(10000, 2, 4000, 10)]
    [InlineData(500, 0, 100, 10)]
    public void The_rehearsals_agents_poll_as_long_as_a_real_agent_unless_a_fleet_process_has_more_devices_than_connections(
        int devices, int processes, int connections, int expected) =>
        Assert.Equal(expected, RehearseCommand.PollSeconds(devices, processes, connections));

    [Fact]
    public async Task Agents_are_listed_with_their_state_and_can_be_revoked()
    {
        await LoginAsync();
        var source = await Host.Client.PostJsonAsync("/api/v1/connections",
            new { name = "CLI agents " + Guid.NewGuid().ToString("N")[..6], role = "Source", kind = "ActiveDirectory" });
        var key = source.GetProperty("configurationKey").GetString()!;
        var device = "CLI-AGENT-" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();
        var enrolled = await Host.EnrollAsync(key, new Rehome.Protocol.DeviceFacts { DeviceName = device, OsVersion = "Windows 11", AgentVersion = "9.9.9" });
        enrolled.EnsureSuccessStatusCode();
        var agentId = System.Text.Json.JsonDocument.Parse(await enrolled.Content.ReadAsStringAsync()).RootElement.GetProperty("agentId").GetString()!;

        var listed = await RunAsync("agents", "list", "--search", device);
        Assert.Equal(0, listed.Exit);
        Assert.Contains(device, listed.Output, StringComparison.Ordinal);
        Assert.Contains("online", listed.Output, StringComparison.Ordinal);
        Assert.Contains("9.9.9", listed.Output, StringComparison.Ordinal);

        Assert.Equal(0, (await RunAsync("agents", "revoke", agentId)).Exit);
        var revoked = await RunAsync("agents", "list", "--state", "revoked", "--search", device);
        Assert.Contains(device, revoked.Output, StringComparison.Ordinal);
        Assert.Contains("revoked", revoked.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_supplied_escape_sequences_and_bidi_overrides_are_printed_as_escapes_not_obeyed()
    {
        await LoginAsync();
        var source = await Host.Client.PostJsonAsync("/api/v1/connections",
            new { name = "CLI escapes " + Guid.NewGuid().ToString("N")[..6], role = "Source", kind = "ActiveDirectory" });
        var device = "CLI-ESC-" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();
        var enrolled = await Host.EnrollAsync(source.GetProperty("configurationKey").GetString()!,
            new Rehome.Protocol.DeviceFacts { DeviceName = device, OsVersion = "Windows 11", AgentVersion = "1.0" });
        enrolled.EnsureSuccessStatusCode();
        // Stored before the server refused such text (or by a server that did not): the CLI must not trust the store either.
        await using (var scope = Host.Scope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
            await db.Agents.Where(a => a.DeviceKey == device).ExecuteUpdateAsync(u => u
                .SetProperty(a => a.DeviceName, device + "\u001b]0;owned\u0007\u001b[2J")
                .SetProperty(a => a.AgentVersion, "1.0\u202Egnp.exe")
                .SetProperty(a => a.DomainName, "contoso\u001b[31m.example\u009b0m"));
        }

        var (exit, output) = await RunAsync("agents", "list", "--search", device);

        Assert.Equal(0, exit);
        Assert.DoesNotContain(output, c => c is '\u001b' or '\u0007' or '\u202E' or '\u009b');
        // The table may wrap a long cell over two lines, so each escaped piece is looked for on its own.
        Assert.Contains(device + "\\u001B]0;", output, StringComparison.Ordinal);
        Assert.Contains("\\u0007\\u001B[2J", output, StringComparison.Ordinal);
        Assert.Contains("1.0\\u202Egnp.exe", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Accounts_are_created_given_a_role_disabled_enabled_reset_and_deleted_by_name()
    {
        await LoginAsync();
        var project = await Host.Client.CreateProjectAsync();
        var name = "cli-" + Guid.NewGuid().ToString("N")[..6];

        Assert.Equal(0, (await RunAsync("accounts", "create", name, "--role", "Viewer", "--password", "First-Passw0rd-of-it")).Exit);
        var promoted = await RunAsync("accounts", "set-role", name, "Operator", "--project", project.ToString());
        Assert.Contains($"{name} is now Operator", promoted.Output, StringComparison.Ordinal);
        var listed = await RunAsync("accounts", "list");
        Assert.Contains(name, listed.Output, StringComparison.Ordinal);
        Assert.Contains("1 project(s)", listed.Output, StringComparison.Ordinal);
        Assert.Equal(0, (await RunAsync("accounts", "disable", name)).Exit);
        Assert.Contains("disabled", (await RunAsync("accounts", "list")).Output, StringComparison.Ordinal);
        Assert.Equal(0, (await RunAsync("accounts", "enable", name)).Exit);
        var weak = await RunAsync("accounts", "reset-password", name, "--password", "weak");
        Assert.Equal(2, weak.Exit);
        Assert.Contains("newPassword", weak.Output, StringComparison.Ordinal);
        Assert.Equal(0, (await RunAsync("accounts", "reset-password", name, "--password", "Second-Passw0rd-of-it")).Exit);
        Assert.False(string.IsNullOrEmpty(await Host.SignInAsync(name, "Second-Passw0rd-of-it")));
        Assert.Equal(0, (await RunAsync("accounts", "delete", name)).Exit);

        Assert.DoesNotContain(name, (await RunAsync("accounts", "list")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_held_enrollment_is_listed_and_approved_from_the_CLI()
    {
        await LoginAsync();
        var source = await Host.Client.PostJsonAsync("/api/v1/connections",
            new { name = "CLI held " + Guid.NewGuid().ToString("N")[..6], role = "Source", kind = "ActiveDirectory" });
        var key = source.GetProperty("configurationKey").GetString()!;
        var device = "CLI-HELD-" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();
        var facts = new Rehome.Protocol.DeviceFacts { DeviceName = device, OsVersion = "Windows 11", AgentVersion = "9.9.9" };
        var first = await (await Host.EnrollAsync(key, facts)).JsonAsync(System.Net.HttpStatusCode.OK);
        var held = await (await Host.EnrollAsync(key, facts, hardwareId: "OTHER-HW")).JsonAsync(System.Net.HttpStatusCode.Accepted);

        var listed = await RunAsync("agents", "list", "--state", "awaiting-approval", "--search", device);
        var approved = await RunAsync("agents", "approve", held.GetProperty("agentId").GetString()!);

        Assert.Contains("OTHER-HW", listed.Output, StringComparison.Ordinal);
        Assert.Contains("awaiting-approval", listed.Output, StringComparison.Ordinal);
        Assert.Equal(0, approved.Exit);
        var replaced = await Host.Client.GetJsonAsync($"/api/v1/agents/{first.GetProperty("agentId").GetString()}");
        Assert.Equal("revoked", replaced.GetProperty("state").GetString());
    }

    [Fact]
    public async Task An_unknown_job_kind_is_named_in_the_error()
    {
        await LoginAsync();
        var project = await Host.Client.CreateProjectAsync();

        var (exit, output) = await RunAsync("run", project.ToString(), "--jobs", "RejoinDomain,Teleport");

        Assert.Equal(2, exit);
        Assert.Contains("'Teleport' is not a job kind", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readiness_lists_what_stops_each_mapping_and_exits_1_when_one_is_not_ready()
    {
        await LoginAsync();
        var project = await Host.Client.CreateProjectAsync();
        await Host.Client.ImportDevicesAsync(project, "RDY-", 2);

        var (exit, output) = await RunAsync("readiness", project.ToString(), "--jobs", "RejoinDomain,MigrateUserProfile");

        Assert.Equal(1, exit);
        Assert.Contains("RDY-0001", output, StringComparison.Ordinal);
        Assert.Contains("No agent has enrolled", output, StringComparison.Ordinal);
        Assert.Contains("2 not ready", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Testing_a_connection_without_a_domain_controller_says_so_and_exits_1()
    {
        await LoginAsync();
        var project = await Host.Client.CreateProjectAsync();
        var destination = (await Host.Client.GetJsonAsync($"/api/v1/projects/{project}")).GetProperty("destinationConnectionId").GetGuid();

        var (exit, output) = await RunAsync("connections", "test", destination.ToString());

        Assert.Equal(1, exit);
        Assert.Contains("Configuration", output, StringComparison.Ordinal);
        Assert.Contains("domain controller", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_demo_builds_a_project_and_starts_every_job_it_may()
    {
        await using var host = await ServerHost.StartAsync(Rehome.Server.Store.StoreProvider.Sqlite);
        var text = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, Out = new AnsiConsoleOutput(text) });
        var token = await host.SignInAsync("admin", ServerHost.AdminPassword);
        using var client = new RehomeApiClient(host.BaseAddress, token);

        var exit = await DemoCommand.RunDemoAsync(new CliContext(console), client, 20, CancellationToken.None);

        Assert.True(exit == 0, text.ToString());
        var projects = await host.Client.GetJsonAsync("/api/v1/projects");
        var demo = projects.EnumerateArray().Single(p => p.GetProperty("name").GetString() == DemoCommand.ProjectName);
        Assert.Equal(20, demo.GetProperty("mappingCount").GetInt32());
        Assert.Equal(20, demo.GetProperty("mappingsByStatus").GetProperty("WaitingForDestination").GetInt32());
        Assert.Contains("80 jobs written", text.ToString(), StringComparison.Ordinal);

        // A second demo on the same store stops the first run and starts again.
        Assert.Equal(0, await DemoCommand.RunDemoAsync(new CliContext(console), client, 20, CancellationToken.None));
    }

    /// <summary>A run of one rejoin that failed with <paramref name="reason"/>, as its agent would end it.</summary>
    private async Task<(Guid Project, Guid Run)> FailedRunAsync(string reason)
    {
        var project = await Host.Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Host.Client.ImportDevicesAsync(project, "REP" + Guid.NewGuid().ToString("N")[..6], 2);
        var started = await Host.Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain" }, mappingIds = ids });
        await using var scope = Host.Scope();
        var transitions = scope.ServiceProvider.GetRequiredService<JobTransitions>();
        var job = await transitions.LeaseNextAsync(ids[0], Guid.NewGuid(), TimeSpan.FromMinutes(5), CancellationToken.None);
        Assert.True(await transitions.CompleteAsync(job!.Id, job.LeaseOwner!.Value, job.LeaseToken!.Value,
            new JobCompletion(JobStatus.Failed, new JobProgress(1, 1, 0, 0), "StepFailed", reason), CancellationToken.None));
        return (project, started.GetProperty("run").GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task Report_run_writes_the_CSV_to_a_file_and_the_printable_page_with_format_html()
    {
        await LoginAsync();
        var (_, run) = await FailedRunAsync("The destination refused the join.");
        var csvFile = Path.Combine(Path.GetDirectoryName(_config)!, "run.csv");
        var htmlFile = Path.Combine(Path.GetDirectoryName(_config)!, "run.html");

        var csv = await RunAsync("report", "run", run.ToString(), "--out", csvFile);
        var html = await RunAsync("report", "run", run.ToString(), "--format", "html", "--out", htmlFile);

        Assert.True(csv.Exit == 0, csv.Output);
        Assert.Contains($"Wrote {csvFile}.", csv.Output, StringComparison.Ordinal);
        var rows = (await File.ReadAllLinesAsync(csvFile)).ToList();
        Assert.StartsWith("Section,Project,Run,JobKind,Status,Count", rows[0].TrimStart('\uFEFF'), StringComparison.Ordinal);
        Assert.Contains(rows, r => r.StartsWith("Jobs,,,RejoinDomain,Failed,1,", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.StartsWith("Jobs,,,RejoinDomain,WaitingToStart,1,", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.StartsWith("Failure,", StringComparison.Ordinal) && r.Contains("The destination refused the join.", StringComparison.Ordinal));
        Assert.True(html.Exit == 0, html.Output);
        Assert.Contains("@media print", await File.ReadAllTextAsync(htmlFile), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_project_on_the_terminal_shows_a_hostile_reason_neutralised()
    {
        await LoginAsync();
        var (project, _) = await FailedRunAsync("\u001b]0;owned\u0007=1+1 \u202Egnp.exe");

        var (exit, output) = await RunAsync("report", "project", project.ToString());

        Assert.True(exit == 0, output);
        Assert.Contains("Failure,", output, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', output);
        Assert.DoesNotContain('\u202E', output);
        Assert.Contains("\\u001B]0;owned\\u0007=1+1 \\u202Egnp.exe", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_run_of_an_unknown_run_says_so_and_writes_no_file()
    {
        await LoginAsync();
        var file = Path.Combine(Path.GetDirectoryName(_config)!, "none.csv");

        var (exit, output) = await RunAsync("report", "run", Guid.NewGuid().ToString(), "--out", file);

        Assert.Equal(ExitCodes.NotFound, exit);
        Assert.Contains("does not exist", output, StringComparison.Ordinal);
        Assert.False(File.Exists(file));
    }

    [Fact]
    public async Task Audit_export_writes_the_entries_of_an_action_to_a_file()
    {
        await LoginAsync();
        await FailedRunAsync("any");
        var file = Path.Combine(Path.GetDirectoryName(_config)!, "audit.csv");

        var (exit, output) = await RunAsync("audit", "export", "--action", "run.", "--from", "2000-01-01T00:00:00Z", "--out", file);

        Assert.True(exit == 0, output);
        var rows = (await File.ReadAllLinesAsync(file)).Skip(1).ToList();
        Assert.NotEmpty(rows);
        Assert.All(rows, r => Assert.Equal("run.", r.Split(',')[3][..4]));
    }

    public void Dispose()
    {
        var folder = Path.GetDirectoryName(_config)!;
        if (System.IO.Directory.Exists(folder))
        {
            System.IO.Directory.Delete(folder, recursive: true);
        }
    }
}
