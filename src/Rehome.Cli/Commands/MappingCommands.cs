using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Rehome.Cli.Commands;

/// <summary><c>rehome mappings list|show|add|edit|move|delete|import|export|report|discover|stop</c>.</summary>
public static class MappingCommands
{
    public static Command Create(CliContext context)
    {
        var project = new Argument<string>("project") { Description = "The project's name or id." };

        var status = new Option<string?>("--status") { Description = "Only mappings in this status (or NotStarted)." };
        var stage = new Option<string?>("--stage") { Description = "Only mappings at this stage (a job kind)." };
        var search = new Option<string?>("--search") { Description = "Text in the device name, destination name or users." };
        var readiness = Readiness();
        var page = new Option<int>("--page") { Description = "The page to show.", DefaultValueFactory = _ => 1 };
        var pageSize = new Option<int>("--page-size") { Description = "Rows per page (at most 1000).", DefaultValueFactory = _ => 50 };
        var list = new Command("list", "Show a page of a project's mappings.") { project, status, stage, search, readiness, page, pageSize };
        list.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var id = await CliContext.ResolveProjectAsync(client, parse.GetValue(project)!, ct);
            var query = $"status={Uri.EscapeDataString(parse.GetValue(status) ?? "")}&stage={Uri.EscapeDataString(parse.GetValue(stage) ?? "")}" +
                $"&search={Uri.EscapeDataString(parse.GetValue(search) ?? "")}&readiness={Uri.EscapeDataString(parse.GetValue(readiness) ?? "")}&page={parse.GetValue(page)}&pageSize={parse.GetValue(pageSize)}";
            var answer = await client.GetAsync($"/api/v1/projects/{id}/mappings?{query}", ct);
            context.Show(answer, () =>
            {
                var table = new Table().AddColumns("Source device", "Destination", "Primary user", "Stage", "Status", "Progress", "Id");
                foreach (var m in answer["items"]!.AsArray())
                {
                    var total = (int?)m!["itemsTotal"] ?? 0;
                    table.AddRow(Markup.Escape(CliContext.Text(m["sourceDevice"])), Markup.Escape(CliContext.Text(m["destinationName"])),
                        Markup.Escape(CliContext.Text(m["primaryUser"])), CliContext.Text(m["stage"]), CliContext.Text(m["status"] ?? "NotStarted"),
                        total > 0 ? $"{m["itemsDone"]}/{total}" : "", CliContext.Text(m["id"]));
                }
                context.Console.Write(table);
                context.Console.MarkupLineInterpolated($"Page {answer["pageNumber"]} of {Math.Max(1, ((int)answer["total"]! + (int)answer["pageSize"]! - 1) / (int)answer["pageSize"]!)}; {answer["total"]} mapping(s) match.");
            });
            return 0;
        });

        var file = new Argument<FileInfo>("file") { Description = "The CSV file: SourceDevice, DestinationName, DestinationOU, PrimaryUser, DestinationUser." };
        var import = new Command("import", "Import mappings from CSV, all or nothing; every bad row is listed.") { project, file };
        import.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var id = await CliContext.ResolveProjectAsync(client, parse.GetValue(project)!, ct);
            await using var stream = parse.GetValue(file)!.OpenRead();
            var answer = await client.PostCsvAsync($"/api/v1/projects/{id}/mappings/import", stream, ct);
            context.Show(answer, () =>
            {
                context.Console.MarkupLineInterpolated($"Imported: {answer["created"]} created, {answer["updated"]} updated.");
                if (CliContext.Text(answer["note"]) is { Length: > 0 } note)
                {
                    context.Console.MarkupLineInterpolated($"[yellow]note:[/] {note}");
                }
            });
            return 0;
        });

        var output = new Option<FileInfo?>("--out") { Description = "Write to this file (default: standard output; with --output json, required)." };
        var export = new Command("export", "Export a project's mappings as CSV.") { project, output, status, stage, search };
        export.SetAction(async (parse, ct) =>
        {
            var target = ReportCommands.FileForJson(context, parse.GetValue(output));
            using var client = context.Client(parse);
            var id = await CliContext.ResolveProjectAsync(client, parse.GetValue(project)!, ct);
            var query = $"status={Uri.EscapeDataString(parse.GetValue(status) ?? "")}&stage={Uri.EscapeDataString(parse.GetValue(stage) ?? "")}&search={Uri.EscapeDataString(parse.GetValue(search) ?? "")}";
            var csv = await client.GetTextAsync($"/api/v1/projects/{id}/mappings/export?{query}", ct);
            if (target is not null)
            {
                await File.WriteAllTextAsync(target.FullName, csv, ct);
                ReportCommands.ShowWritten(context, target);
            }
            else
            {
                context.Console.Profile.Out.Writer.Write(Rehome.Core.Validation.TextRules.Neutralise(csv, multiLine: true));
            }
            return 0;
        });

        var reportId = MappingId();
        var report = new Command("report", "A mapping's history: every run and job, the areas of permissions and profile jobs, and failed items.") { reportId };
        report.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var answer = await client.GetAsync($"/api/v1/mappings/{parse.GetValue(reportId)}/report", ct);
            context.Show(answer, () => PrintReport(context, answer));
            return 0;
        });

        return new Command("mappings", "Device mappings of a project.")
        {
            list, Show(context), Add(context), Edit(context), Move(context), Delete(context), import, export, report, DirectoryCommands.Discover(context),
            CleanupCommands.RemoveCompleted(context),
            Stop(context),
        };
    }

    private static Option<string?> Readiness() =>
        new("--readiness") { Description = "Only mappings whose last readiness check ended so (Ready, Warnings, NotReady), or NotChecked." };

    /// <summary>Stops the jobs not over of many mappings at once: explicit ids, or every mapping matching a filter.</summary>
    private static Command Stop(CliContext context)
    {
        var project = new Argument<string>("project") { Description = "The project's name or id." };
        var mappings = new Option<string?>("--mappings") { Description = "Comma-separated mapping ids (default: every mapping matching the filter)." };
        var status = new Option<string?>("--status") { Description = "Select mappings in this status." };
        var stage = new Option<string?>("--stage") { Description = "Select mappings at this stage (a job kind)." };
        var search = new Option<string?>("--search") { Description = "Select mappings whose device, destination or users contain this text." };
        var readiness = Readiness();
        var stop = new Command("stop", "Stop the waiting and running jobs of a selection of a project's mappings: waiting ones stop now, running ones are asked to stop.")
        {
            project, mappings, status, stage, search, readiness,
        };
        stop.SetAction(async (parse, ct) =>
        {
            var ids = CliContext.MappingIds(parse.GetValue(mappings));
            var filtered = parse.GetValue(status) is not null || parse.GetValue(stage) is not null || parse.GetValue(search) is not null
                || parse.GetValue(readiness) is not null;
            if (ids is not null && filtered)
            {
                throw new CliException("Give either --mappings or a filter (--status, --stage, --search, --readiness), not both.");
            }
            using var client = context.Client(parse);
            var projectId = await CliContext.ResolveProjectAsync(client, parse.GetValue(project)!, ct);
            var body = new
            {
                mappingIds = ids,
                filter = ids is null
                    ? new { status = parse.GetValue(status), stage = parse.GetValue(stage), search = parse.GetValue(search), readiness = parse.GetValue(readiness) }
                    : null,
            };
            var answer = await client.PostAsync($"/api/v1/projects/{projectId}/jobs/stop", body, ct);
            context.Show(answer, () => context.Console.MarkupLineInterpolated(
                $"{answer["stoppedNow"]} job(s) stopped now; {answer["stopRequested"]} running job(s) asked to stop."));
            return 0;
        });
        return stop;
    }

    private static Argument<Guid> MappingId() => new("mapping-id") { Description = "The mapping's id (see 'rehome mappings list')." };

    private static Command Show(CliContext context)
    {
        var id = MappingId();
        var show = new Command("show", "Show one mapping: device, destination, users, stage and status.") { id };
        show.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var mapping = await client.GetAsync($"/api/v1/mappings/{parse.GetValue(id)}", ct);
            context.Show(mapping, () => PrintMapping(context, mapping));
            return 0;
        });
        return show;
    }

    /// <summary>The fields of a mapping as options: <c>add</c> needs the device, <c>edit</c> changes what is given.</summary>
    private sealed class MappingOptions
    {
        public Option<string?> SourceDevice { get; } = new("--source-device") { Description = "The source device's name." };

        public Option<string?> DestinationName { get; } = new("--destination-name") { Description = "The device's name in the destination (default: the source name)." };

        public Option<string?> DestinationOu { get; } = new("--destination-ou") { Description = "The destination OU (\"\" for the destination connection's)." };

        public Option<string?> PrimaryUser { get; } = new("--primary-user") { Description = "The primary user, DOMAIN\\user or user@domain (\"\" for none)." };

        public Option<string?> DestinationUser { get; } = new("--destination-user") { Description = "The primary user's destination account (\"\" for none)." };

        public void AddTo(Command command)
        {
            command.Add(SourceDevice);
            command.Add(DestinationName);
            command.Add(DestinationOu);
            command.Add(PrimaryUser);
            command.Add(DestinationUser);
        }

        /// <summary>The mapping to send: the options given over <paramref name="current"/> (an empty value clears a field).</summary>
        public JsonObject Body(ParseResult parse, JsonNode? current)
        {
            string? Field(Option<string?> option, string name) =>
                parse.GetValue(option) is { } given ? given.Length == 0 ? null : given : (string?)current?[name];
            return new JsonObject
            {
                ["sourceDevice"] = Field(SourceDevice, "sourceDevice"),
                ["destinationName"] = Field(DestinationName, "destinationName"),
                ["destinationOu"] = Field(DestinationOu, "destinationOu"),
                ["primaryUser"] = Field(PrimaryUser, "primaryUser"),
                ["destinationUser"] = Field(DestinationUser, "destinationUser"),
            };
        }
    }

    private static Command Add(CliContext context)
    {
        var project = new Argument<string>("project") { Description = "The project's name or id." };
        var fields = new MappingOptions();
        var add = new Command("add", "Add one mapping to a project (--source-device is needed; a device is in one project only).") { project };
        fields.AddTo(add);
        add.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var projectId = await CliContext.ResolveProjectAsync(client, parse.GetValue(project)!, ct);
            var created = await client.PostAsync($"/api/v1/projects/{projectId}/mappings", fields.Body(parse, null), ct);
            context.Show(created, () => context.Console.MarkupLineInterpolated(
                $"Added mapping {CliContext.Text(created["sourceDevice"])} → {CliContext.Text(created["destinationName"])} ({CliContext.Text(created["id"])})."));
            return 0;
        });
        return add;
    }

    private static Command Edit(CliContext context)
    {
        var id = MappingId();
        var fields = new MappingOptions();
        var edit = new Command("edit", "Change a mapping: what is not given stays; \"\" clears an optional field. The device name cannot change while it has jobs waiting or running.") { id };
        fields.AddTo(edit);
        edit.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var current = await client.GetAsync($"/api/v1/mappings/{parse.GetValue(id)}", ct);
            var updated = await client.PutAsync($"/api/v1/mappings/{parse.GetValue(id)}", fields.Body(parse, current), ct);
            context.Show(updated, () =>
            {
                context.Console.MarkupLine("Mapping saved.");
                PrintMapping(context, updated);
            });
            return 0;
        });
        return edit;
    }

    private static Command Move(CliContext context)
    {
        var id = MappingId();
        var to = new Argument<string>("project") { Description = "The project to move it to (name or id)." };
        var move = new Command("move", "Move a mapping, with its history, to another project (not while it has jobs waiting or running).") { id, to };
        move.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var projectId = await CliContext.ResolveProjectAsync(client, parse.GetValue(to)!, ct);
            var moved = await client.PostAsync($"/api/v1/mappings/{parse.GetValue(id)}/move", new { projectId }, ct);
            context.Show(moved, () => context.Console.MarkupLineInterpolated(
                $"Moved {CliContext.Text(moved["sourceDevice"])} to project {Terminal.Safe(parse.GetValue(to))}."));
            return 0;
        });
        return move;
    }

    private static Command Delete(CliContext context)
    {
        var id = MappingId();
        var delete = new Command("delete", "Delete a mapping with its jobs' history (not while it has jobs waiting or running).") { id };
        delete.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var answer = await client.DeleteAsync($"/api/v1/mappings/{parse.GetValue(id)}", ct);
            context.Show(answer, () => context.Console.MarkupLineInterpolated($"Mapping {parse.GetValue(id)} deleted."));
            return 0;
        });
        return delete;
    }

    private static void PrintMapping(CliContext context, JsonNode m)
    {
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("Source device", Markup.Escape(CliContext.Text(m["sourceDevice"])));
        grid.AddRow("Destination", Markup.Escape(CliContext.Text(m["destinationName"])));
        grid.AddRow("Destination OU", Markup.Escape(CliContext.Text(m["destinationOu"])));
        grid.AddRow("Primary user", Markup.Escape(CliContext.Text(m["primaryUser"])));
        grid.AddRow("Destination user", Markup.Escape(CliContext.Text(m["destinationUser"])));
        grid.AddRow("Stage", Markup.Escape(m["stage"] is null ? "NotStarted" : $"{CliContext.Text(m["stage"])} {CliContext.Text(m["status"])}"));
        grid.AddRow("Project", CliContext.Text(m["projectId"]));
        grid.AddRow("Id", CliContext.Text(m["id"]));
        context.Console.Write(grid);
    }

    private static void PrintReport(CliContext context, JsonNode answer)
    {
        var m = answer["mapping"]!;
        context.Console.MarkupLineInterpolated(
            $"[bold]{CliContext.Text(m["sourceDevice"])}[/] → {CliContext.Text(m["destinationName"])}: {(m["stage"] is null ? "NotStarted" : $"{CliContext.Text(m["stage"])} {CliContext.Text(m["status"])}")}");
        foreach (var run in answer["runs"]!.AsArray())
        {
            context.Console.MarkupLineInterpolated(
                $"{((bool?)run!["dryRun"] == true ? "Dry run (preview)" : "Run")} {run["runId"]} of {CliContext.Text(run["createdAt"])} by {CliContext.Text(run["requestedBy"])}:");
            foreach (var job in run["jobs"]!.AsArray())
            {
                RunCommands.PrintJob(context, job!);
            }
        }
        var failed = answer["items"]!.AsArray().Where(i => i?["error"] is not null).Take(20).ToList();
        foreach (var item in failed)
        {
            context.Console.MarkupLineInterpolated($"[red]failed[/] {CliContext.Text(item!["item"])}: {CliContext.Text(item["error"])}");
        }
    }
}
