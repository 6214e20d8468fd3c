using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rehome.Cli.Client;
using Rehome.Cli.Commands;
using Spectre.Console;

namespace Rehome.Cli;

/// <summary>The <c>rehome</c> command tree; Program.cs runs it on the terminal, tests on a recording console.</summary>
public static class CliApp
{
    public static Task<int> RunAsync(string[] args, IAnsiConsole console, CancellationToken ct = default) => RunAsync(args, console, null, ct);

    /// <summary>
    /// Runs the command line: answers on <paramref name="console"/> (standard output), errors on
    /// <paramref name="messages"/> (standard error; <paramref name="console"/> when null). The exit code is one of
    /// <see cref="ExitCodes"/>.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, IAnsiConsole console, IAnsiConsole? messages, CancellationToken ct = default)
    {
        console = Terminal.Protect(console);
        messages = messages is null ? console : Terminal.Protect(messages);
        var context = new CliContext(console, messages);
        var root = Build(context);
        var parse = root.Parse(args);
        context.Json = IsJson(parse, context);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                messages.MarkupLineInterpolated($"[red]error:[/] {Terminal.Safe(error.Message)}");
            }
            messages.MarkupLineInterpolated($"'{CommandPath(parse)} --help' lists what it takes.");
            WriteJsonError(context, ExitCodes.Usage, string.Join(" ", parse.Errors.Select(e => e.Message)), null);
            return ExitCodes.Usage;
        }
        try
        {
            return await parse.InvokeAsync(
                new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = new ConsoleBridge(console), Error = new ConsoleBridge(messages) }, ct);
        }
        catch (Exception e) when (e is CliException or ApiException or HttpRequestException or TaskCanceledException { InnerException: TimeoutException })
        {
            var exit = ExitCodes.Of(e);
            var problem = (e as ApiException)?.Problem;
            messages.MarkupLineInterpolated($"[red]error:[/] {Terminal.Safe(e.Message)}{RuleOf(problem)}");
            if (problem is not null && !context.Json)
            {
                ResourceCommands.PrintProblemRows(context, problem, messages);
            }
            WriteJsonError(context, exit, e.Message, problem);
            return exit;
        }
    }

    /// <summary>" (rule)" for a refusal that lists no fields, whose rule a script or a search would look for; "" otherwise.</summary>
    private static string RuleOf(JsonElement? problem) =>
        problem is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty("rule", out var rule) && rule.ValueKind == JsonValueKind.String
            && !(p.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0)
            ? $" ({Terminal.Safe(rule.GetString())})"
            : "";

    /// <summary>The <c>rehome</c> command tree (the tests walk it to check every command).</summary>
    public static RootCommand Build(CliContext context)
    {
        var root = new RootCommand(Description())
        {
            context.ServerOption,
            context.ConfigOption,
            context.OutputOption,
            ResourceCommands.Connections(context),
            ResourceCommands.Policies(context),
            ResourceCommands.Projects(context),
            MappingCommands.Create(context),
            AgentCommands.Create(context),
            AgentPackageCommands.Create(context),
            AccountCommands.Create(context),
            TokenCommands.Create(context),
            NotificationCommands.Create(context),
            DirectoryCommands.Identities(context),
            DirectoryCommands.Readiness(context),
            ReportCommands.Report(context),
            ReportCommands.Audit(context),
            DemoCommand.Create(context),
            RehearseCommand.Create(context),
        };
        foreach (var command in LoginCommands.Create(context).Concat(RunCommands.Create(context)))
        {
            root.Add(command);
        }
        return root;
    }

    /// <summary>The root's description: what the CLI is, how scripts read it, and its exit codes.</summary>
    private static string Description() =>
        "rehome: the Rehome device-migration platform from the command line.\n\n" +
        "Every command takes --output json (-o json): standard output then holds only the server's answer as JSON " +
        "(on an error: {\"exitCode\", \"message\", \"problem\"}), and messages go to standard error.\n\nExit codes:\n" +
        string.Join("\n", ExitCodes.All.Select(c => $"  {c.Code}  {c.Meaning}"));

    private static bool IsJson(ParseResult parse, CliContext context)
    {
        try
        {
            return parse.GetValue(context.OutputOption) == "json";
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>"rehome mappings edit": the command the line reached, for the hint after a parse error.</summary>
    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result.Parent is System.CommandLine.Parsing.CommandResult parent; result = parent)
        {
            names.Insert(0, result.Command.Name);
        }
        return string.Join(' ', ["rehome", .. names]);
    }

    /// <summary>With --output json, an error is a JSON document on standard output too, so a script always has one to read.</summary>
    private static void WriteJsonError(CliContext context, int exit, string message, JsonElement? problem)
    {
        if (context.Json)
        {
            context.WriteJson(new JsonObject
            {
                ["exitCode"] = exit,
                ["message"] = message,
                ["problem"] = problem is { } p ? JsonNode.Parse(p.GetRawText()) : null,
            });
        }
    }

    /// <summary>
    /// Sends System.CommandLine's own text (help) to the same console as everything else. A TextWriter, not a
    /// StringWriter: the help writes its blank lines through <c>Write(char[], int, int)</c>, which a StringWriter
    /// keeps in its own buffer, so every such newline was lost.
    /// </summary>
    private sealed class ConsoleBridge(IAnsiConsole console) : TextWriter
    {
        private TextWriter Out => console.Profile.Out.Writer;

        public override System.Text.Encoding Encoding => Out.Encoding;

        public override IFormatProvider FormatProvider => System.Globalization.CultureInfo.InvariantCulture;

        public override void Write(char value) => Out.Write(value);

        public override void Write(char[] buffer, int index, int count) => Out.Write(buffer, index, count);

        public override void Write(string? value) => Out.Write(value);

        public override void WriteLine(string? value) => Out.WriteLine(value);

        public override void WriteLine() => Out.WriteLine();
    }
}
