using System.CommandLine;
using System.Globalization;
using System.Text;
using Rehome.Cli.Client;
using Spectre.Console;

namespace Rehome.Cli.Commands;

/// <summary><c>rehome report run|project</c> and <c>rehome audit export</c>: reports to hand on, as CSV or printable HTML.</summary>
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
        return new Command("audit", "The audit log: who did what, when.") { export };
    }

    /// <summary>
    /// Adds <c>--out</c> (and <c>--format</c>) to <paramref name="command"/> and its action: the report is copied to
    /// the file as it arrives, or shown on the terminal (every line through <see cref="Terminal.Safe"/>).
    /// </summary>
    private static void AddOutput(
        CliContext context, Command command, Func<ParseResult, RehomeApiClient, CancellationToken, Task<string>> path, bool withFormat)
    {
        var output = new Option<FileInfo?>("--out") { Description = "Write to this file (default: the terminal)." };
        var format = new Option<string>("--format") { Description = "csv (default) or html (a printable page).", DefaultValueFactory = _ => "csv" };
        format.AcceptOnlyFromAmong("csv", "html");
        command.Add(output);
        if (withFormat)
        {
            command.Add(format);
        }
        command.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var url = await path(parse, client, ct);
            if (withFormat && parse.GetValue(format) == "csv")
            {
                url += ".csv";
            }
            if (parse.GetValue(output) is { } target)
            {
                // Opened once the server has answered: a refusal leaves an existing file as it was.
                await client.StreamAsync(url, async body =>
                {
                    await using var file = new FileStream(target.FullName, FileMode.Create, FileAccess.Write, FileShare.None, 81920, useAsync: true);
                    await body.CopyToAsync(file, ct);
                }, ct);
                context.Console.MarkupLineInterpolated($"Wrote {target.FullName}.");
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
}
