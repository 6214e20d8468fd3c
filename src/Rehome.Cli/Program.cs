using System.CommandLine;
using Rehome.Cli.Client;
using Rehome.Cli.Commands;
using Spectre.Console;

var context = new CliContext(AnsiConsole.Console);
var root = new RootCommand("rehome: the Rehome device-migration platform from the command line.")
{
    context.ServerOption,
    context.ConfigOption,
    ResourceCommands.Connections(context),
    ResourceCommands.Policies(context),
    ResourceCommands.Projects(context),
    MappingCommands.Create(context),
    DemoCommand.Create(context),
};
foreach (var command in LoginCommands.Create(context).Concat(RunCommands.Create(context)))
{
    root.Add(command);
}

try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is CliException or ApiException or HttpRequestException)
{
    AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
    if (e is ApiException { Problem: var problem } && problem is not null)
    {
        ResourceCommands.PrintProblemRows(context, problem);
    }
    return 2;
}
