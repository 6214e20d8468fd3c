using System.CommandLine;
using Spectre.Console;

namespace Rehome.Cli.Commands;

/// <summary><c>rehome mappings list|import|export</c>.</summary>
public static class MappingCommands
{
    public static Command Create(CliContext context)
    {
        var project = new Argument<string>("project") { Description = "The project's name or id." };

        var status = new Option<string?>("--status") { Description = "Only mappings in this status (or NotStarted)." };
        var stage = new Option<string?>("--stage") { Description = "Only mappings at this stage (a job kind)." };
        var search = new Option<string?>("--search") { Description = "Text in the device name, destination name or users." };
        var page = new Option<int>("--page") { Description = "The page to show.", DefaultValueFactory = _ => 1 };
        var pageSize = new Option<int>("--page-size") { Description = "Rows per page (at most 1000).", DefaultValueFactory = _ => 50 };
        var list = new Command("list", "Show a page of a project's mappings.") { project, status, stage, search, page, pageSize };
        list.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var id = await CliContext.ResolveProjectAsync(client, parse.GetValue(project)!, ct);
            var query = $"status={Uri.EscapeDataString(parse.GetValue(status) ?? "")}&stage={Uri.EscapeDataString(parse.GetValue(stage) ?? "")}" +
                $"&search={Uri.EscapeDataString(parse.GetValue(search) ?? "")}&page={parse.GetValue(page)}&pageSize={parse.GetValue(pageSize)}";
            var answer = await client.GetAsync($"/api/v1/projects/{id}/mappings?{query}", ct);
            var table = new Table().AddColumns("Source device", "Destination", "Primary user", "Stage", "Status", "Progress");
            foreach (var m in answer["items"]!.AsArray())
            {
                var total = (int?)m!["itemsTotal"] ?? 0;
                table.AddRow(Markup.Escape(CliContext.Text(m["sourceDevice"])), Markup.Escape(CliContext.Text(m["destinationName"])),
                    Markup.Escape(CliContext.Text(m["primaryUser"])), CliContext.Text(m["stage"]), CliContext.Text(m["status"] ?? "NotStarted"),
                    total > 0 ? $"{m["itemsDone"]}/{total}" : "");
            }
            context.Console.Write(table);
            context.Console.MarkupLineInterpolated($"Page {answer["pageNumber"]} of {Math.Max(1, ((int)answer["total"]! + (int)answer["pageSize"]! - 1) / (int)answer["pageSize"]!)}; {answer["total"]} mapping(s) match.");
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
            context.Console.MarkupLineInterpolated($"Imported: {answer["created"]} created, {answer["updated"]} updated.");
            if (CliContext.Text(answer["note"]) is { Length: > 0 } note)
            {
                context.Console.MarkupLineInterpolated($"[yellow]note:[/] {note}");
            }
            return 0;
        });

        var output = new Option<FileInfo?>("--out") { Description = "Write to this file (default: standard output)." };
        var export = new Command("export", "Export a project's mappings as CSV.") { project, output, status, stage, search };
        export.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var id = await CliContext.ResolveProjectAsync(client, parse.GetValue(project)!, ct);
            var query = $"status={Uri.EscapeDataString(parse.GetValue(status) ?? "")}&stage={Uri.EscapeDataString(parse.GetValue(stage) ?? "")}&search={Uri.EscapeDataString(parse.GetValue(search) ?? "")}";
            var csv = await client.GetTextAsync($"/api/v1/projects/{id}/mappings/export?{query}", ct);
            if (parse.GetValue(output) is { } target)
            {
                await File.WriteAllTextAsync(target.FullName, csv, ct);
                context.Console.MarkupLineInterpolated($"Wrote {target.FullName}.");
            }
            else
            {
                context.Console.Profile.Out.Writer.Write(csv);
            }
            return 0;
        });
        var mappingId = new Argument<Guid>("mapping-id") { Description = "The mapping's id (see 'rehome mappings list')." };
        var report = new Command("report", "A mapping's history: every run and job, the areas of permissions and profile jobs, and failed items.") { mappingId };
        report.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var answer = await client.GetAsync($"/api/v1/mappings/{parse.GetValue(mappingId)}/report", ct);
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
            return 0;
        });
        return new Command("mappings", "Device mappings of a project.") { list, import, export, report, DirectoryCommands.Discover(context), CleanupCommands.RemoveCompleted(context) };
    }
}
