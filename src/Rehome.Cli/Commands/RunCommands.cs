using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rehome.Cli.Client;
using Rehome.Core.Runs;
using Spectre.Console;

namespace Rehome.Cli.Commands;

/// <summary><c>rehome run</c>, <c>rehome status</c>, <c>rehome stop</c>, <c>rehome rerun</c>.</summary>
public static class RunCommands
{
    public static IEnumerable<Command> Create(CliContext context)
    {
        var project = new Argument<string>("project") { Description = "The project's name or id." };
        var jobs = new Option<string>("--jobs")
        {
            Description = $"Comma-separated job kinds: {string.Join(", ", Enum.GetNames<JobKind>())}.",
            Required = true,
        };
        var mappings = new Option<string?>("--mappings") { Description = "Comma-separated mapping ids (default: every mapping matching the filter)." };
        var status = new Option<string?>("--status") { Description = "Select mappings in this status (or NotStarted)." };
        var stage = new Option<string?>("--stage") { Description = "Select mappings at this stage." };
        var search = new Option<string?>("--search") { Description = "Select mappings whose device, destination or users contain this text." };
        var at = new Option<DateTimeOffset?>("--at") { Description = "Start at this time instead of now (ISO 8601, e.g. 2026-12-01T22:00:00Z)." };
        var preview = new Option<bool>("--preview") { Description = "Show what would start and what would be refused; start nothing." };
        var watch = new Option<bool>("--watch") { Description = "Follow the run's progress until it is over." };
        var dryRun = new Option<bool>("--dry-run")
        {
            Description = "MigratePermissions / MigrateUserProfile only: each device counts, per area, what would change and changes nothing " +
                "(see 'rehome mappings report').",
        };
        var run = new Command("run", "Run migration jobs on a project's mappings (the console's Migration → OK).")
        {
            project, jobs, mappings, status, stage, search, at, preview, watch, dryRun,
        };
        run.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var projectId = await CliContext.ResolveProjectAsync(client, parse.GetValue(project)!, ct);
            var kinds = ParseKinds(parse.GetValue(jobs)!);
            var ids = CliContext.MappingIds(parse.GetValue(mappings));
            var body = new
            {
                kinds,
                mappingIds = ids,
                filter = ids is null ? new { status = parse.GetValue(status), stage = parse.GetValue(stage), search = parse.GetValue(search) } : null,
                startAt = parse.GetValue(at),
                dryRun = parse.GetValue(dryRun),
            };
            var isPreview = parse.GetValue(preview);
            // A refusal of the whole run is an error answer: CliApp shows its refusals, field by field.
            var answer = await client.PostAsync($"/api/v1/projects/{projectId}/runs{(isPreview ? "/preview" : "")}", body, ct);
            var startedRun = !isPreview && answer["run"]?["id"] is { } startedId ? Guid.Parse((string)startedId!) : (Guid?)null;
            if (startedRun is { } watched && parse.GetValue(watch))
            {
                PrintStarted(context, answer, isPreview, parse.GetValue(dryRun));
                return await WatchAsync(context, client, watched, follow: true, ct);
            }
            context.Show(answer, () => PrintStarted(context, answer, isPreview, parse.GetValue(dryRun)));
            return 0;
        });

        var runId = new Argument<Guid>("run-id");
        var follow = new Option<bool>("--watch") { Description = "Follow until the run is over, with progress bars." };
        var show = new Command("status", "Show a run's jobs by kind and status.") { runId, follow };
        show.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            return await WatchAsync(context, client, parse.GetValue(runId), parse.GetValue(follow), ct);
        });

        var stopRunId = new Argument<Guid>("id") { Description = "A run id (or a job id with --job)." };

        var jobOption = new Option<bool>("--job") { Description = "The id is a job's, not a run's." };
        var stop = new Command("stop", "Stop a run (or one job): waiting jobs stop at once, running ones when their agent hears it.") { stopRunId, jobOption };
        stop.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var path = parse.GetValue(jobOption) ? $"/api/v1/jobs/{parse.GetValue(stopRunId)}/stop" : $"/api/v1/runs/{parse.GetValue(stopRunId)}/stop";
            var answer = await client.PostAsync(path, new { }, ct);
            context.Show(answer, () => PrintStopped(context, answer));
            return 0;
        });

        var rerunKinds = new Option<string?>("--jobs") { Description = "Only these job kinds (default: every kind that did not finish)." };
        var rerunId = new Argument<Guid>("run-id");
        var rerun = new Command("rerun", "Run again the jobs of a run that ended Failed, Exceptions or Stopped.") { rerunId, rerunKinds };
        rerun.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var kinds = parse.GetValue(rerunKinds) is { } text ? ParseKinds(text) : null;
            var answer = await client.PostAsync($"/api/v1/runs/{parse.GetValue(rerunId)}/rerun", new { kinds }, ct);
            context.Show(answer, () => PrintRerun(context, answer));
            return 0;
        });
        return [run, show, stop, rerun, Runs(context), Jobs(context)];
    }

    private static void PrintStarted(CliContext context, JsonNode answer, bool isPreview, bool dryRun)
    {
        var refusals = Refusals(answer);
        var verb = isPreview ? "Would start" : (bool?)answer["scheduled"] == true ? $"Scheduled for {answer["startAt"]}:" : "Started";
        context.Console.MarkupLineInterpolated($"{verb} [bold]{answer["jobCount"]}[/] job(s) on [bold]{answer["mappingCount"]}[/] mapping(s); [bold]{refusals.Count}[/] refused.");
        PrintRefusals(context.Console, refusals);
        if (dryRun)
        {
            context.Console.MarkupLine("A dry run: each device counts, per area, what would change and changes nothing ('rehome mappings report' shows it).");
        }
        if (!isPreview && answer["run"]?["id"] is { } runId)
        {
            context.Console.MarkupLineInterpolated($"Run {runId}. Follow it with 'rehome status {runId} --watch'.");
        }
    }

    private static void PrintStopped(CliContext context, JsonNode answer) =>
        context.Console.MarkupLineInterpolated($"{answer["stoppedNow"]} job(s) stopped now; {answer["stopRequested"]} running job(s) asked to stop.");

    private static void PrintRerun(CliContext context, JsonNode answer)
    {
        context.Console.MarkupLineInterpolated($"Re-run {answer["run"]?["id"]}: {answer["jobCount"]} job(s) on {answer["mappingCount"]} mapping(s).");
        PrintRefusals(context.Console, Refusals(answer));
    }

    private static List<JsonElement> Refusals(JsonNode answer) =>
        JsonSerializer.Deserialize<List<JsonElement>>(answer["refusals"]?.ToJsonString() ?? "[]") ?? [];

    /// <summary><c>rehome runs list|jobs</c>: a project's runs, and the jobs of one run.</summary>
    private static Command Runs(CliContext context)
    {
        var project = new Argument<string>("project") { Description = "The project's name or id." };
        var page = new Option<int>("--page") { Description = "The page to show.", DefaultValueFactory = _ => 1 };
        var pageSize = new Option<int>("--page-size") { Description = "Runs per page (at most 1000).", DefaultValueFactory = _ => 50 };
        var list = new Command("list", "A project's runs, newest first: who started them, when, which jobs, on how many mappings.") { project, page, pageSize };
        list.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var id = await CliContext.ResolveProjectAsync(client, parse.GetValue(project)!, ct);
            var answer = await client.GetAsync($"/api/v1/projects/{id}/runs?page={parse.GetValue(page)}&pageSize={parse.GetValue(pageSize)}", ct);
            context.Show(answer, () =>
            {
                var table = new Table().AddColumns("Created", "By", "Jobs", "Mappings", "Job count", "Kind", "Id");
                foreach (var r in answer["items"]!.AsArray())
                {
                    var kind = (bool?)r!["dryRun"] == true ? "dry run" : r["rerunOf"] is null ? "" : "re-run";
                    table.AddRow(CliContext.Text(r["createdAt"]), Markup.Escape(CliContext.Text(r["requestedBy"])),
                        Markup.Escape(string.Join(", ", r["kinds"]?.AsArray().Select(k => CliContext.Text(k)) ?? [])),
                        CliContext.Text(r["mappingCount"]), CliContext.Text(r["jobCount"]), kind, CliContext.Text(r["id"]));
                }
                context.Console.Write(table);
                context.Console.MarkupLineInterpolated($"{answer["total"]} run(s).");
            });
            return 0;
        });

        var runId = new Argument<Guid>("run-id");
        var status = new Option<string?>("--status") { Description = $"Only jobs in this status ({string.Join(", ", Enum.GetNames<JobStatus>())})." };
        var kind = new Option<string?>("--kind") { Description = $"Only jobs of this kind ({string.Join(", ", Enum.GetNames<JobKind>())})." };
        var jobPage = new Option<int>("--page") { Description = "The page to show.", DefaultValueFactory = _ => 1 };
        var jobPageSize = new Option<int>("--page-size") { Description = "Jobs per page (at most 1000).", DefaultValueFactory = _ => 50 };
        var jobs = new Command("jobs", "The jobs of a run, by status and kind: each one's mapping, progress and error.") { runId, status, kind, jobPage, jobPageSize };
        jobs.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var query = $"status={Uri.EscapeDataString(parse.GetValue(status) ?? "")}&kind={Uri.EscapeDataString(parse.GetValue(kind) ?? "")}" +
                $"&page={parse.GetValue(jobPage)}&pageSize={parse.GetValue(jobPageSize)}";
            var answer = await client.GetAsync($"/api/v1/runs/{parse.GetValue(runId)}/jobs?{query}", ct);
            context.Show(answer, () =>
            {
                var table = new Table().AddColumns("Job", "Status", "Items", "Error", "Mapping", "Id");
                foreach (var j in answer["items"]!.AsArray())
                {
                    table.AddRow(Markup.Escape(CliContext.Text(j!["kindName"])), Markup.Escape(CliContext.Text(j["statusName"])),
                        $"{j["itemsDone"]}/{j["itemsTotal"]}", Markup.Escape(CliContext.Text(j["errorMessage"])), CliContext.Text(j["mappingId"]), CliContext.Text(j["id"]));
                }
                context.Console.Write(table);
                context.Console.MarkupLineInterpolated($"{answer["total"]} job(s) match.");
            });
            return 0;
        });
        return new Command("runs", "A project's runs and each run's jobs ('rehome status' shows a run's counts).") { list, jobs };
    }

    /// <summary><c>rehome jobs show|revert</c>: one job, by id (the mapping report lists them).</summary>
    private static Command Jobs(CliContext context)
    {
        var id = new Argument<Guid>("job-id") { Description = "The job's id (see 'rehome mappings report')." };
        var show = new Command("show", "Show one job: its status, what it is (dry run, revert), and its per-area counts.") { id };
        show.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var job = await client.GetAsync($"/api/v1/jobs/{parse.GetValue(id)}", ct);
            context.Show(job, () => PrintJob(context, job));
            return 0;
        });
        var revert = new Command("revert",
            "Revert a finished Migrate permissions or Migrate Windows user profile job: its device restores what it changed (a new run of one job).") { id };
        revert.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var answer = await client.PostAsync($"/api/v1/jobs/{parse.GetValue(id)}/revert", new { }, ct);
            context.Show(answer, () => context.Console.MarkupLineInterpolated(
                $"Revert started: run {answer["run"]?["id"]}. Follow it with 'rehome status {answer["run"]?["id"]} --watch'."));
            return 0;
        });
        var stop = new Command("stop", "Stop one job: a waiting job stops at once, a running one when its agent hears it.") { id };
        stop.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var answer = await client.PostAsync($"/api/v1/jobs/{parse.GetValue(id)}/stop", new { }, ct);
            context.Show(answer, () => PrintStopped(context, answer));
            return 0;
        });
        var rerun = new Command("rerun", "Run one job again (one that ended Failed, Exceptions or Stopped): a new run of one job.") { id };
        rerun.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var answer = await client.PostAsync($"/api/v1/jobs/{parse.GetValue(id)}/rerun", new { }, ct);
            context.Show(answer, () => PrintRerun(context, answer));
            return 0;
        });
        return new Command("jobs", "One job of a run: show it, stop it, run it again, or revert it.") { show, stop, rerun, revert };
    }

    /// <summary>A job's line and, for permissions and profile, its areas (as the mapping report shows them).</summary>
    public static void PrintJob(CliContext context, JsonNode job)
    {
        var note = CliContext.Text(job["note"]);
        var what = $"{CliContext.Text(job["kindName"])}: {CliContext.Text(job["statusName"])}{(note.Length > 0 ? $" — {note}" : "")}";
        context.Console.MarkupLineInterpolated(
            $"{what}, items {job["itemsDone"]}/{job["itemsTotal"]}, {job["itemsChanged"]} changed, {job["itemsFailed"]} failed  [dim]{job["id"]}[/]");
        if (CliContext.Text(job["errorMessage"]) is { Length: > 0 } error)
        {
            context.Console.MarkupLineInterpolated($"  [red]{CliContext.Text(job["errorCode"])}[/]: {error}");
        }
        var areas = job["areas"]?.AsArray() ?? [];
        if (areas.Count == 0)
        {
            return;
        }
        var dry = (bool?)job["dryRun"] == true;
        var table = new Table().AddColumn("Area").AddColumn(new TableColumn("Seen").RightAligned())
            .AddColumn(new TableColumn(dry ? "Would change" : "Changed").RightAligned()).AddColumn(new TableColumn("Failed").RightAligned()).AddColumn("Problem");
        foreach (var area in areas)
        {
            var problem = CliContext.Text(area!["problem"]);
            table.AddRow(Markup.Escape(CliContext.Text(area["name"])), Number(area["seen"]), Number(area["changed"]), Number(area["failed"]),
                problem.Length > 0 ? Markup.Escape("not done — " + problem) : "");
        }
        context.Console.Write(table);

        static string Number(JsonNode? n) => ((int?)n ?? 0).ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
    }

    internal static List<JobKind> ParseKinds(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(k => Enum.TryParse<JobKind>(k, true, out var kind) && Enum.IsDefined(kind)
                ? kind
                : throw new CliException($"'{k}' is not a job kind; use {string.Join(", ", Enum.GetNames<JobKind>())}."))
            .ToList();

    /// <summary>Refusals grouped by job and rule, with one example each: 50,000 identical lines help nobody.</summary>
    public static void PrintRefusals(IAnsiConsole console, IReadOnlyList<JsonElement> refusals)
    {
        if (refusals.Count == 0)
        {
            return;
        }
        var table = new Table().AddColumns("Job", "Rule", "Mappings", "Example");
        foreach (var group in refusals.GroupBy(r => (Kind: r.GetProperty("kind").GetString(), Rule: r.GetProperty("rule").GetString())))
        {
            var first = group.First();
            table.AddRow(Markup.Escape(Terminal.Safe(group.Key.Kind)), Markup.Escape(Terminal.Safe(group.Key.Rule)), group.Count().ToString(System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(Terminal.Safe($"{first.GetProperty("sourceDevice").GetString()}: {first.GetProperty("message").GetString()}")));
        }
        console.Write(table);
    }

    /// <summary>
    /// Shows a run's status (a table, or its JSON); with <paramref name="follow"/>, progress bars (on standard error with
    /// --output json) until every job is over, and exit code 1 when some job failed.
    /// </summary>
    public static async Task<int> WatchAsync(CliContext context, RehomeApiClient client, Guid runId, bool follow, CancellationToken ct)
    {
        var status = await client.GetAsync($"/api/v1/runs/{runId}", ct);
        if (follow && (bool?)status["isOver"] != true)
        {
            await context.Console.Progress().AutoClear(false).Columns(
                    new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var bars = new Dictionary<string, ProgressTask>();
                    while (!ct.IsCancellationRequested)
                    {
                        foreach (var (kind, counts) in status["jobsByKindAndStatus"]!.AsObject())
                        {
                            var byStatus = counts!.AsObject().ToDictionary(kv => kv.Key, kv => (int)kv.Value!);
                            var total = byStatus.Values.Sum();
                            var over = byStatus.Where(kv => Enum.TryParse<JobStatus>(kv.Key, out var s) && !s.IsActive()).Sum(kv => kv.Value);
                            if (!bars.TryGetValue(kind, out var bar))
                            {
                                bars[kind] = bar = progress.AddTask(Enum.Parse<JobKind>(kind).DisplayName(), maxValue: total);
                            }
                            bar.Value = over;
                        }
                        if ((bool?)status["isOver"] == true)
                        {
                            break;
                        }
                        await Task.Delay(TimeSpan.FromSeconds(1), ct);
                        status = await client.GetAsync($"/api/v1/runs/{runId}", ct);
                    }
                });
        }
        context.Show(status, () => PrintStatusTable(context, status));
        var failed = status["jobsByKindAndStatus"]!.AsObject().Sum(kv => (int?)kv.Value?["Failed"] ?? 0);
        return follow && failed > 0 ? ExitCodes.CheckFailed : ExitCodes.Ok;
    }

    public static void PrintStatusTable(CliContext context, JsonNode status)
    {
        // Only the statuses some job is in: nine mostly empty columns do not fit a terminal.
        var present = status["jobsByKindAndStatus"]!.AsObject().SelectMany(kv => kv.Value!.AsObject().Select(s => s.Key)).ToHashSet();
        var statuses = Enum.GetValues<JobStatus>().Where(s => present.Contains(s.ToString())).ToList();
        var table = new Table().AddColumn("Job");
        foreach (var s in statuses)
        {
            table.AddColumn(new TableColumn(s.DisplayName()).RightAligned());
        }
        foreach (var (kind, counts) in status["jobsByKindAndStatus"]!.AsObject())
        {
            var row = new List<string> { Enum.Parse<JobKind>(kind).DisplayName() };
            row.AddRange(statuses.Select(s => counts?[s.ToString()]?.ToString() ?? "·"));
            table.AddRow(row.ToArray());
        }
        context.Console.MarkupLineInterpolated($"Run {status["run"]?["id"]} ({status["run"]?["mappingCount"]} mappings, {status["run"]?["jobCount"]} jobs){((bool?)status["isOver"] == true ? ", over" : "")}:");
        context.Console.Write(table);
    }
}
