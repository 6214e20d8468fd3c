using Rehome.Cli;
using Spectre.Console;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl+C ends the command cleanly (the demo stops its server); a second one kills the process.
    e.Cancel = !cancel.IsCancellationRequested;
    cancel.Cancel();
};
return await CliApp.RunAsync(args, AnsiConsole.Console, cancel.Token);
