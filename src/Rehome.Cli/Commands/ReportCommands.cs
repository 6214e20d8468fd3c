using System.CommandLine;
using System.Globalization;
using System.Text;
using Rehome.Cli.Client;
using Spectre.Console;

namespace Rehome.Cli.Commands;

/// <summary>
/// <c>rehome report run|project</c> and <c>rehome audit list|export</c>: reports to hand on, as CSV or printable HTML,
/// and the audit log. A report is a file, not JSON: with <c>--output json</c> it needs <c>--out</c>, and the JSON says
/// what was written.
/// </summary>
public static class ReportCommands
{
    public static Command Report(CliContext context)
    {
        var runId = new Argument<Guid>("run-id") { Description = "The run's id (see 'rehome mappings report' or the run's start)." };
        var run = new Command("run", "A run's report: jobs by status, durations, Re-ACL areas, every failure with its reason and advice.") { runId };
        AddOutput(context, run, (parse, _, _) => Task.FromResult($"/api/v1/runs/{parse.GetValue(runId)}/report"), withFormat: true);

        var project = new Argument<string>("project") { Description = "The project's name or id." };
        var projectReport = new Command("project", "A project's report: mappings by state, runs with their counts, the failures still standing.") { project };
        AddOutput(context, projectReport, async (parse, client, ct) =>
            $"/api/v1/projects/{await CliContext.ResolveProjectAsync(client, parse.GetValue(project)!, ct)}/report", withFormat: true);

        return new Command("report", "Reports to hand on, as CSV or as a printable page (open it in a browser and print it to PDF).") { run, projectReport };
    }

    public static Command Audit(CliContext context)
    {
        var actor = new Option<string?>("--actor") { Description = "Only what this account (user name) did." };
        var action = new Option<string?>("--action") { Description = "Only actions starting with this (run., connection., auth.)." };
        var from = new Option<DateTimeOffset?>("--from") { Description = "From this time, inclusive (ISO 8601, e.g. 2026-12-01T00:00:00Z)." };
        var to = new Option<DateTimeOffset?>("--to") { Description = "Up to this time, exclusive." };
        var export = new Command("export", "The audit log as CSV, oldest first.") { actor, action, from, to };
        var listActor = new Option<string?>("--actor") { Description = "Only what this account (user name) did." };
        var listAction = new Option<string?>("--action") { Description = "Only actions starting with this (run., connection., auth.)." };
        var page = new Option<int>("--page") { Description = "The page to show.", DefaultValueFactory = _ => 1 };
        var pageSize = new Option<int>("--page-size") { Description = "Entries per page (at most 1000).", DefaultValueFactory = _ => 50 };
        var list = new Command("list", "A page of the audit log, newest first: when, who, what, on what.") { listActor, listAction, page, pageSize };
        list.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var query = $"actor={Uri.EscapeDataString(parse.GetValue(listActor) ?? "")}&action={Uri.EscapeDataString(parse.GetValue(listAction) ?? "")}" +
                $"&page={parse.GetValue(page).ToString(CultureInfo.InvariantCulture)}&pageSize={parse.GetValue(pageSize).ToString(CultureInfo.InvariantCulture)}";
            var answer = await client.GetAsync($"/api/v1/audit?{query}", ct);
            context.Show(answer, () =>
            {
                var table = new Table().AddColumns("At", "Actor", "Action", "Target", "Details");
                foreach (var e in answer["items"]!.AsArray())
                {
                    table.AddRow(CliContext.Text(e!["at"]), Markup.Escape(CliContext.Text(e["actor"])), Markup.Escape(CliContext.Text(e["action"])),
                        Markup.Escape(CliContext.Text(e["target"])), Markup.Escape(CliContext.Text(e["details"])));
                }
                context.Console.Write(table);
                context.Console.MarkupLineInterpolated($"Page {answer["pageNumber"]}; {answer["total"]} entr(ies) match.");
            });
            return 0;
        });
        AddOutput(context, export, (parse, _, _) =>
        {
            var query = new StringBuilder("/api/v1/audit/export.csv?actor=").Append(Uri.EscapeDataString(parse.GetValue(actor) ?? ""))
                .Append("&action=").Append(Uri.EscapeDataString(parse.GetValue(action) ?? ""));
            foreach (var (name, value) in new[] { ("from", parse.GetValue(from)), ("to", parse.GetValue(to)) })
            {
                if (value is { } at)
                {
                    query.Append('&').Append(name).Append('=').Append(Uri.EscapeDataString(at.ToString("O", CultureInfo.InvariantCulture)));
                }
            }
            return Task.FromResult(query.ToString());
        }, withFormat: false);
        return new Command("audit", "The audit log: who did what, when.") { list, export };
    }

    /// <summary>
    /// Adds <c>--out</c> (and <c>--format</c>) to <paramref name="command"/> and its action: the report is copied to
    /// the file as it arrives, or shown on the terminal (every line through <see cref="Terminal.Safe"/>).
    /// </summary>
    private static void AddOutput(
        CliContext context, Command command, Func<ParseResult, RehomeApiClient, CancellationToken, Task<string>> path, bool withFormat)
    {
        var output = new Option<FileInfo?>("--out") { Description = "Write to this file (default: the terminal; with --output json, required)." };
        var format = new Option<string>("--format") { Description = "csv (default) or html (a printable page).", DefaultValueFactory = _ => "csv" };
        format.AcceptOnlyFromAmong("csv", "html");
        command.Add(output);
        if (withFormat)
        {
            command.Add(format);
        }
        command.SetAction(async (parse, ct) =>
        {
            var file = FileForJson(context, parse.GetValue(output));
            using var client = context.Client(parse);
            var url = await path(parse, client, ct);
            if (withFormat && parse.GetValue(format) == "csv")
            {
                url += ".csv";
            }
            if (file is { } target)
            {
                // Opened once the server has answered: a refusal leaves an existing file as it was.
                await client.StreamAsync(url, async body =>
                {
                    await using var file = new FileStream(target.FullName, FileMode.Create, FileAccess.Write, FileShare.None, 81920, useAsync: true);
                    await body.CopyToAsync(file, ct);
                }, ct);
                ShowWritten(context, target);
                return 0;
            }
            var writer = context.Console.Profile.Out.Writer;
            await client.StreamAsync(url, async body =>
            {
                using var lines = new StreamReader(body, Encoding.UTF8);
                while (await lines.ReadLineAsync(ct) is { } line)
                {
                    writer.WriteLine(Terminal.Safe(line));
                }
            }, ct);
            return 0;
        });
    }

    /// <summary>The file to write; with --output json one is needed, since a CSV or an HTML page on standard output is no JSON.</summary>
    internal static FileInfo? FileForJson(CliContext context, FileInfo? file) =>
        file is null && context.Json
            ? throw new CliException("With --output json, give --out FILE: the command writes CSV or HTML there and prints what it wrote as JSON.", ExitCodes.Usage)
            : file;

    /// <summary>Says which file was written: a line, or as JSON its path and size.</summary>
    internal static void ShowWritten(CliContext context, FileInfo target)
    {
        target.Refresh();
        context.Show(new System.Text.Json.Nodes.JsonObject { ["file"] = target.FullName, ["bytes"] = target.Length },
            () => context.Console.MarkupLineInterpolated($"Wrote {target.FullName}."));
    }
}
