using Rehome.Cli;
using Rehome.Cli.Rehearsal;
using Spectre.Console;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl+C ends the command cleanly (the demo stops its server); a second one kills the process.
    e.Cancel = !cancel.IsCancellationRequested;
    cancel.Cancel();
};
if (args is [FleetHost.Verb, var fleetSpec])
{
    // A rehearsal's (or a fault test's) simulated devices in a process of their own: plumbing, not a command for people.
    return await FleetHost.RunAsync(fleetSpec, cancel.Token);
}
// Errors (and, with --output json, every message for people) go to standard error: standard output is the answer.
var errors = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
return await CliApp.RunAsync(args, AnsiConsole.Console, errors, cancel.Token);
