using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Rehome.Cli.Commands;

/// <summary>
/// The directories behind connections and projects: <c>rehome connections test</c>, <c>rehome mappings discover</c>,
/// <c>rehome identities</c> and <c>rehome readiness</c>.
/// </summary>
public static class DirectoryCommands
{
    /// <summary><c>rehome connections test ID</c>: every check of the connection's domain and tenant; exit 1 when one fails.</summary>
    public static Command TestConnection(CliContext context)
    {
        var id = new Argument<Guid>("connection-id");
        var test = new Command("test", "Test a connection against its real directories; every check is shown.") { id };
        test.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var report = await client.PostAsync($"/api/v1/connections/{parse.GetValue(id)}/test", new { }, ct);
            var passed = (bool)report["succeeded"]!;
            context.Show(report, () =>
            {
                var table = new Table().AddColumns("Part", "Check", "Result", "Detail");
                foreach (var part in report["parts"]!.AsArray())
                {
                    foreach (var check in part!["checks"]!.AsArray())
                    {
                        table.AddRow(Markup.Escape(CliContext.Text(part["part"])), Markup.Escape(CliContext.Text(check!["name"])),
                            (bool)check["passed"]! ? "[green]passed[/]" : "[red]failed[/]", Markup.Escape(CliContext.Text(check["detail"])));
                    }
                }
                context.Console.Write(table);
                context.Console.MarkupLine(passed ? "[green]The connection works.[/]" : "[red]The connection has failing checks.[/]");
            });
            return passed ? ExitCodes.Ok : ExitCodes.CheckFailed;
        });
        return test;
    }

    /// <summary><c>rehome mappings discover PROJECT --ou DN</c>: mappings from the computers of an OU of the source domain.</summary>
    public static Command Discover(CliContext context)
    {
        var project = new Argument<string>("project") { Description = "The project's name or id." };
        var ou = new Option<string>("--ou") { Description = "The source OU's distinguished name, e.g. OU=Workstations,DC=corp,DC=example,DC=com.", Required = true };
        var nameFormat = new Option<string?>("--name-format") { Description = "Destination names, with {name} for the source name (default: the same name)." };
        var destinationOu = new Option<string?>("--destination-ou") { Description = "The destination OU of the new mappings (default: the destination connection's)." };
        var onlyThisOu = new Option<bool>("--no-child-ous") { Description = "Only computers directly in the OU, not in OUs below it." };
        var disabled = new Option<bool>("--include-disabled") { Description = "Also disabled computer accounts." };
        var preview = new Option<bool>("--preview") { Description = "List the computers found; add nothing." };
        var discover = new Command("discover", "Add mappings from the computers of an OU of the project's source directory.")
        {
            project, ou, nameFormat, destinationOu, onlyThisOu, disabled, preview,
        };
        discover.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var projectId = await CliContext.ResolveProjectAsync(client, parse.GetValue(project)!, ct);
            if (parse.GetValue(preview))
            {
                var projectView = await client.GetAsync($"/api/v1/projects/{projectId}", ct);
                var computers = await client.GetAsync(
                    $"/api/v1/connections/{projectView["sourceConnectionId"]}/computers?ou={Uri.EscapeDataString(parse.GetValue(ou)!)}&includeChildOus={!parse.GetValue(onlyThisOu)}&limit=10000", ct);
                context.Show(computers, () =>
                {
                    var table = new Table().AddColumns("Computer", "Enabled", "Operating system", "Distinguished name");
                    foreach (var c in computers.AsArray())
                    {
                        table.AddRow(Markup.Escape(CliContext.Text(c!["name"])), CliContext.Text(c["enabled"]), Markup.Escape(CliContext.Text(c["operatingSystem"])),
                            Markup.Escape(CliContext.Text(c["distinguishedName"])));
                    }
                    context.Console.Write(table);
                    context.Console.MarkupLineInterpolated($"{computers.AsArray().Count} computer(s) found.");
                });
                return 0;
            }
            var outcome = await client.PostAsync($"/api/v1/projects/{projectId}/mappings/discover", new
            {
                organizationalUnit = parse.GetValue(ou),
                includeChildOus = !parse.GetValue(onlyThisOu),
                destinationNameFormat = parse.GetValue(nameFormat),
                destinationOu = parse.GetValue(destinationOu),
                includeDisabled = parse.GetValue(disabled),
            }, ct);
            context.Show(outcome, () =>
            {
                context.Console.MarkupLineInterpolated(
                    $"Found {outcome["found"]} computer(s): [bold]{outcome["created"]}[/] mapping(s) added, {outcome["alreadyInProject"]} already in the project, {outcome["disabled"]} disabled left out.");
                foreach (var other in outcome["inOtherProjects"]!.AsArray())
                {
                    context.Console.MarkupLineInterpolated($"  left out: {CliContext.Text(other)}");
                }
            });
            return 0;
        });
        return discover;
    }

    /// <summary><c>rehome identities PROJECT [--refresh]</c>: the users and groups the SID map is built from.</summary>
    public static Command Identities(CliContext context)
    {
        var project = new Argument<string>("project") { Description = "The project's name or id." };
        var refresh = new Option<bool>("--refresh") { Description = "Read both directories again now." };
        var command = new Command("identities", "Show (or refresh) the project's cached users and groups and how many of them map.") { project, refresh };
        command.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var projectId = await CliContext.ResolveProjectAsync(client, parse.GetValue(project)!, ct);
            var view = parse.GetValue(refresh)
                ? await client.PostAsync($"/api/v1/projects/{projectId}/identities/refresh", new { }, ct)
                : await client.GetAsync($"/api/v1/projects/{projectId}/identities", ct);
            context.Show(view, () =>
            {
                if (!(bool)view["loaded"]!)
                {
                    context.Console.MarkupLine("Not read yet: the first SID map or --refresh reads both directories.");
                    return;
                }
                context.Console.MarkupLineInterpolated(
                    $"Read at {view["loadedAt"]}: source {view["sourceUsers"]} users, {view["sourceGroups"]} groups; destination {view["destinationUsers"]} users, {view["destinationGroups"]} groups.");
                context.Console.MarkupLineInterpolated($"With the project's policy: {view["mapped"]} mapped, {view["unmapped"]} unmapped.");
                foreach (var problem in view["problems"]!.AsArray())
                {
                    context.Console.MarkupLineInterpolated($"[yellow]policy:[/] {CliContext.Text(problem)}");
                }
            });
            return 0;
        });
        return command;
    }

    /// <summary><c>rehome readiness PROJECT --jobs …</c>: the pre-analysis of mappings before a run; exit 1 when one is not ready.</summary>
    public static Command Readiness(CliContext context)
    {
        var project = new Argument<string>("project") { Description = "The project's name or id." };
        var jobs = new Option<string?>("--jobs") { Description = "Comma-separated job kinds to check for (default: all five)." };
        var status = new Option<string?>("--status") { Description = "Only mappings in this status (or NotStarted)." };
        var search = new Option<string?>("--search") { Description = "Only mappings whose device, destination or users contain this text." };
        var all = new Option<bool>("--all") { Description = "Show every mapping, not only those with failures or warnings." };
        var command = new Command("readiness", "Check mappings before a run: agent, disk, destination name and OU, identities, Entra ID and Autopilot.")
        {
            project, jobs, status, search, all,
        };
        command.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var projectId = await CliContext.ResolveProjectAsync(client, parse.GetValue(project)!, ct);
            var report = await client.PostAsync($"/api/v1/projects/{projectId}/readiness", new
            {
                kinds = parse.GetValue(jobs) is { } text ? RunCommands.ParseKinds(text) : null,
                filter = new { status = parse.GetValue(status), search = parse.GetValue(search) },
            }, ct);
            context.Show(report, () =>
            {
                var table = new Table().AddColumns("Device", "Check", "Result", "Detail");
                foreach (var mapping in report["mappings"]!.AsArray())
                {
                    foreach (var check in mapping!["checks"]!.AsArray().Where(c => parse.GetValue(all) || (string?)c!["outcome"] != "Passed"))
                    {
                        table.AddRow(Markup.Escape(CliContext.Text(mapping["sourceDevice"])), Markup.Escape(CliContext.Text(check!["check"])),
                            Outcome(check["outcome"]), Markup.Escape(CliContext.Text(check["detail"])));
                    }
                }
                if (table.Rows.Count > 0)
                {
                    context.Console.Write(table);
                }
                context.Console.MarkupLineInterpolated(
                    $"{report["mappingCount"]} mapping(s): [green]{report["readyCount"]} ready[/] ({report["warningCount"]} with warnings), [red]{report["notReadyCount"]} not ready[/].");
            });
            return (int)report["notReadyCount"]! == 0 ? ExitCodes.Ok : ExitCodes.CheckFailed;
        });
        return command;
    }

    private static string Outcome(JsonNode? outcome) => (string?)outcome switch
    {
        "Passed" => "[green]passed[/]",
        "Warning" => "[yellow]warning[/]",
        _ => "[red]failed[/]",
    };
}
