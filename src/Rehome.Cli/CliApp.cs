using System.CommandLine;
using Rehome.Cli.Client;
using Rehome.Cli.Commands;
using Spectre.Console;

namespace Rehome.Cli;

/// <summary>The <c>rehome</c> command tree; Program.cs runs it on the terminal, tests on a recording console.</summary>
public static class CliApp
{
    public static async Task<int> RunAsync(string[] args, IAnsiConsole console, CancellationToken ct = default)
    {
        console = Terminal.Protect(console);
        var context = new CliContext(console);
        var root = new RootCommand("rehome: the Rehome device-migration platform from the command line.")
        {
            context.ServerOption,
            context.ConfigOption,
            ResourceCommands.Connections(context),
            ResourceCommands.Policies(context),
            ResourceCommands.Projects(context),
            MappingCommands.Create(context),
            AgentCommands.Create(context),
            AccountCommands.Create(context),
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
        var output = new ConsoleBridge(console);
        try
        {
            return await root.Parse(args).InvokeAsync(
                new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = output, Error = output }, ct);
        }
        catch (Exception e) when (e is CliException or ApiException or HttpRequestException)
        {
            console.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            if (e is ApiException { Problem: { } problem })
            {
                ResourceCommands.PrintProblemRows(context, problem);
            }
            return 2;
        }
    }

    /// <summary>
    /// Sends System.CommandLine's own text (help, parse errors) to the same console as everything else. A
    /// TextWriter, not a StringWriter: the help writes its blank lines through <c>Write(char[], int, int)</c>,
    /// which a StringWriter keeps in its own buffer, so every such newline was lost.
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
