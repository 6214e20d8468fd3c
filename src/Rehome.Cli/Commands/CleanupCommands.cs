using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Rehome.Cli.Commands;

/// <summary>
/// After the migration: <c>rehome mappings remove-completed</c>, <c>rehome agents uninstall</c> and
/// <c>rehome projects archive|unarchive|download</c>, added to their commands by <see cref="CliApp"/>'s command tree.
/// </summary>
public static class CleanupCommands
{
    /// <summary><c>rehome mappings remove-completed PROJECT [--mapping ID]… | [--status S] [--stage K] [--search T]</c>.</summary>
    public static Command RemoveCompleted(CliContext context)
    {
        var project = new Argument<string>("project") { Description = "The project's name or id." };
        var mappings = new Option<Guid[]>("--mapping") { Description = "Only this mapping (repeatable); default: every mapping of the project." };
        var status = new Option<string?>("--status") { Description = "Only mappings in this status (the grid's filter)." };
        var stage = new Option<string?>("--stage") { Description = "Only mappings at this stage (a job kind)." };
        var search = new Option<string?>("--search") { Description = "Only mappings with this text in the device name, destination name or users." };
        var command = new Command("remove-completed",
            "Remove the project's mappings whose every job kind ended Finished (with their jobs); the others are kept and counted by reason.")
            { project, mappings, status, stage, search };
        command.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var id = await CliContext.ResolveProjectAsync(client, parse.GetValue(project)!, ct);
            var ids = parse.GetValue(mappings) is { Length: > 0 } chosen ? chosen : null;
            var filter = parse.GetValue(status) is null && parse.GetValue(stage) is null && parse.GetValue(search) is null
                ? null
                : new { status = parse.GetValue(status), stage = parse.GetValue(stage), search = parse.GetValue(search) };
            var result = await client.PostAsync($"/api/v1/projects/{id}/mappings/remove-completed", new { mappingIds = ids, filter }, ct);
            context.Show(result, () => Print(context, result, "completed mapping(s) removed"));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary><c>rehome agents uninstall AGENT-ID</c> or <c>rehome agents uninstall --project P</c> (the agents of its completed mappings).</summary>
    public static Command Uninstall(CliContext context)
    {
        var agent = new Argument<Guid?>("agent-id") { Description = "The agent to uninstall.", Arity = ArgumentArity.ZeroOrOne };
        var project = new Option<string?>("--project") { Description = "Instead: the agents of this project's completed mappings." };
        var command = new Command("uninstall",
            "Tell an agent to uninstall itself: at its next poll, once no job is left for it, it removes its data, confirms and removes itself.")
            { agent, project };
        command.SetAction(async (parse, ct) =>
        {
            if ((parse.GetValue(agent) is null) == (parse.GetValue(project) is null))
            {
                throw new CliException("Give an agent id, or --project for the agents of a project's completed mappings (not both).", ExitCodes.Usage);
            }
            using var client = context.Client(parse);
            if (parse.GetValue(project) is { } name)
            {
                var id = await CliContext.ResolveProjectAsync(client, name, ct);
                var result = await client.PostAsync($"/api/v1/projects/{id}/agents/uninstall", new { }, ct);
                context.Show(result, () => Print(context, result, "agent(s) told to uninstall"));
                return ExitCodes.Ok;
            }
            var told = await client.PostAsync($"/api/v1/agents/{parse.GetValue(agent)}/uninstall", new { }, ct);
            context.Show(told, () => context.Console.MarkupLine(Markup.Escape(
                $"The agent of {CliContext.Text(told["deviceName"])} is told to uninstall; it does at its next poll once no job is left for it.")));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Adds <c>rehome projects archive|unarchive|download PROJECT</c> to <paramref name="projects"/>.</summary>
    public static Command WithArchive(this Command projects, CliContext context)
    {
        foreach (var command in Archive(context))
        {
            projects.Add(command);
        }
        return projects;
    }

    private static IEnumerable<Command> Archive(CliContext context)
    {
        var archiveProject = ProjectArgument();
        var archive = new Command("archive", "Archive a project with its reports (one zip kept by the server); it becomes read-only.") { archiveProject };
        archive.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var id = await CliContext.ResolveProjectAsync(client, parse.GetValue(archiveProject)!, ct);
            var done = await client.PostAsync($"/api/v1/projects/{id}/archive", new { }, ct);
            context.Show(done, () => context.Console.MarkupLine(Markup.Escape(
                $"Archived: its reports are in {CliContext.Text(done["fileName"])} ({CliContext.Text(done["sizeBytes"])} bytes); 'rehome projects download' fetches it.")));
            return ExitCodes.Ok;
        });
        var unarchiveProject = ProjectArgument();
        var unarchive = new Command("unarchive", "Make an archived project editable again (its archive zip is dropped).") { unarchiveProject };
        unarchive.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var id = await CliContext.ResolveProjectAsync(client, parse.GetValue(unarchiveProject)!, ct);
            var answer = await client.PostAsync($"/api/v1/projects/{id}/unarchive", new { }, ct);
            context.Show(answer, () => context.Console.MarkupLine("Unarchived: the project takes runs, imports and edits again."));
            return ExitCodes.Ok;
        });
        var downloadProject = ProjectArgument();
        var file = new Option<FileInfo>("--file", "-f") { Description = "Where to write the zip.", Required = true };
        var download = new Command("download", "Download an archived project's zip of reports.") { downloadProject, file };
        download.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var id = await CliContext.ResolveProjectAsync(client, parse.GetValue(downloadProject)!, ct);
            var target = parse.GetValue(file)!;
            // Opened once the server has answered: a refusal leaves an existing file as it was.
            await client.StreamAsync($"/api/v1/projects/{id}/archive.zip", async body =>
            {
                await using var zip = new FileStream(target.FullName, FileMode.Create, FileAccess.Write, FileShare.None, 81920, useAsync: true);
                await body.CopyToAsync(zip, ct);
            }, ct);
            target.Refresh();
            context.Show(new JsonObject { ["file"] = target.FullName, ["bytes"] = target.Length },
                () => context.Console.MarkupLine(Markup.Escape($"Wrote {target.FullName}.")));
            return ExitCodes.Ok;
        });
        return [archive, unarchive, download];
    }

    private static Argument<string> ProjectArgument() => new("project") { Description = "The project's name or id." };

    /// <summary>A cleanup's answer: how many were done, and the rest by reason.</summary>
    private static void Print(CliContext context, JsonNode result, string done)
    {
        context.Console.MarkupLine(Markup.Escape($"{CliContext.Text(result["done"])} {done}; {CliContext.Text(result["kept"])} kept."));
        var reasons = result["keptByReason"]!.AsObject();
        if (reasons.Count > 0)
        {
            var table = new Table().AddColumns("Kept because", "Mappings");
            foreach (var (reason, count) in reasons)
            {
                table.AddRow(Markup.Escape(Terminal.Safe(reason)), CliContext.Text(count));
            }
            context.Console.Write(table);
        }
        if (result["agentsRefusedByRule"] is JsonObject { Count: > 0 } refused)
        {
            var table = new Table().AddColumns("Agents refused because", "Agents");
            foreach (var (rule, count) in refused)
            {
                table.AddRow(Markup.Escape(Terminal.Safe(rule)), CliContext.Text(count));
            }
            context.Console.Write(table);
        }
    }
}
