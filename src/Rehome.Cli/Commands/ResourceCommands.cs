using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rehome.Cli.Client;
using Rehome.Core.Policies;
using Spectre.Console;

namespace Rehome.Cli.Commands;

/// <summary><c>rehome connections</c>, <c>rehome policies</c>, <c>rehome projects</c>.</summary>
public static class ResourceCommands
{
    public static Command Connections(CliContext context)
    {
        var list = new Command("list", "List connections (secrets are never shown).");
        list.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var table = new Table().AddColumns("Name", "Role", "Kind", "Details", "Id");
            foreach (var c in (await client.GetAsync("/api/v1/connections", ct)).AsArray())
            {
                var details = (string?)c!["role"] == "Destination"
                    ? $"{c["destination"]?["domainDnsName"]} {c["destination"]?["rejoinMethod"]}"
                    : (bool?)c["source"]?["entraId"]?["enabled"] == true ? "Entra ID enabled" : "";
                table.AddRow(Markup.Escape(CliContext.Text(c["name"])), CliContext.Text(c["role"]), CliContext.Text(c["kind"]),
                    Markup.Escape(details), CliContext.Text(c["id"]));
            }
            context.Console.Write(table);
            return 0;
        });

        var file = new Option<FileInfo>("--file") { Description = "A JSON file with the connection (as POST /api/v1/connections takes it).", Required = true };
        var create = new Command("create", "Create a connection from a JSON file; a source's configuration key is shown once.") { file };
        create.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var body = JsonNode.Parse(await File.ReadAllTextAsync(parse.GetValue(file)!.FullName, ct))
                ?? throw new CliException("The file holds no JSON.");
            var answer = await client.PostAsync("/api/v1/connections", body, ct);
            context.Console.MarkupLineInterpolated($"Created connection [bold]{(string?)answer["connection"]?["name"]}[/] ({answer["connection"]?["id"]}).");
            ShowKey(context, answer["configurationKey"]);
            return 0;
        });

        var id = new Argument<Guid>("connection-id");
        var rotate = new Command("rotate-key", "Replace a source connection's configuration key (agents already enrolled keep working).") { id };
        rotate.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            ShowKey(context, (await client.PostAsync($"/api/v1/connections/{parse.GetValue(id)}/configuration-key", new { }, ct))["configurationKey"]);
            return 0;
        });
        return new Command("connections", "Source and destination directories.") { list, create, rotate, Package(context), DirectoryCommands.TestConnection(context) };
    }

    /// <summary><c>rehome connections package set|remove</c>: an Entra ID connection's bulk enrollment provisioning package.</summary>
    private static Command Package(CliContext context)
    {
        var id = new Argument<Guid>("connection-id");
        var file = new Option<FileInfo>("--file") { Description = "The .ppkg file made with Windows Configuration Designer.", Required = true };
        var set = new Command("set", "Upload the connection's provisioning package (stored encrypted; never shown again).") { id, file };
        set.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            await using var package = parse.GetValue(file)!.OpenRead();
            var answer = await client.PutFileAsync($"/api/v1/connections/{parse.GetValue(id)}/bulk-enrollment-package", package, ct);
            var part = answer["destination"] ?? answer["source"];
            context.Console.MarkupLineInterpolated($"Uploaded the provisioning package of [bold]{(string?)answer["name"]}[/] ({(long?)part?["bulkEnrollmentPackageBytes"]:N0} bytes).");
            return 0;
        });
        var remove = new Command("remove", "Remove the connection's provisioning package.") { id };
        remove.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            await client.DeleteAsync($"/api/v1/connections/{parse.GetValue(id)}/bulk-enrollment-package", ct);
            context.Console.MarkupLine("Removed the provisioning package.");
            return 0;
        });
        return new Command("package", "An Entra ID connection's bulk enrollment provisioning package (the destination's join, or a source's way back).") { set, remove };
    }

    private static void ShowKey(CliContext context, JsonNode? key)
    {
        if (key is not null)
        {
            context.Console.MarkupLineInterpolated($"Configuration key (shown only now; agents enroll with it): [bold yellow]{(string?)key}[/]");
        }
    }

    public static Command Policies(CliContext context)
    {
        var list = new Command("list", "List migration policies.");
        list.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var table = new Table().AddColumns("Name", "Re-ACL mode", "Areas", "Forced rejoin after", "Id");
            foreach (var p in (await client.GetAsync("/api/v1/policies", ct)).AsArray())
            {
                table.AddRow(Markup.Escape(CliContext.Text(p!["name"])), CliContext.Text(p["settings"]?["reaclMode"]),
                    Markup.Escape(CliContext.Text(p["settings"]?["areas"]?["kinds"])),
                    CliContext.Text(p["settings"]?["forcedRejoin"]?["forceAfter"]), CliContext.Text(p["id"]));
            }
            context.Console.Write(table);
            return 0;
        });
        var name = new Option<string>("--name") { Description = "The policy's name.", Required = true };
        var settings = new Option<FileInfo?>("--settings") { Description = "A JSON file with the policy settings (defaults for what it leaves out)." };
        var areas = new Option<string?>("--areas")
        {
            Description = $"Comma-separated areas beyond files and registry whose permissions migrate ({string.Join(", ", Enum.GetNames<AreaKinds>())}); " +
                "replaces the settings file's.",
        };
        var create = new Command("create", "Create a migration policy.") { name, settings, areas };
        create.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var settingsFile = parse.GetValue(settings);
            var settingsJson = settingsFile is null ? new JsonObject() : JsonNode.Parse(await File.ReadAllTextAsync(settingsFile.FullName, ct)) ?? new JsonObject();
            if (parse.GetValue(areas) is { } areaText)
            {
                // The default paths stay unless the file gives its own.
                var areaSettings = settingsJson["areas"] as JsonObject ?? JsonSerializer.SerializeToNode(AreaSettings.Default, RehomeApiClient.Json)!.AsObject();
                areaSettings["kinds"] = ParseAreaKinds(areaText).ToString();
                settingsJson["areas"] = areaSettings;
            }
            var body = new JsonObject
            {
                ["name"] = parse.GetValue(name),
                ["settings"] = settingsFile is null && parse.GetValue(areas) is null ? null : settingsJson,
            };
            var answer = await client.PostAsync("/api/v1/policies", body, ct);
            context.Console.MarkupLineInterpolated($"Created policy [bold]{(string?)answer["name"]}[/] ({answer["id"]}).");
            return 0;
        });
        return new Command("policies", "Migration policies.") { list, create };
    }

    internal static AreaKinds ParseAreaKinds(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(k => Enum.TryParse<AreaKinds>(k, true, out var kind) && Enum.IsDefined(kind) && !int.TryParse(k, out _)
                ? kind
                : throw new CliException($"'{k}' is not an area; use {string.Join(", ", Enum.GetNames<AreaKinds>())}."))
            .Aggregate(AreaKinds.None, (all, kind) => all | kind);

    public static Command Projects(CliContext context)
    {
        var list = new Command("list", "List projects with their mappings by status.");
        list.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var table = new Table().AddColumns("Name", "Mappings", "By status", "Id");
            foreach (var p in (await client.GetAsync("/api/v1/projects", ct)).AsArray())
            {
                var counts = p!["mappingsByStatus"]!.AsObject().Select(kv => $"{kv.Key} {kv.Value}");
                table.AddRow(Markup.Escape(CliContext.Text(p["name"])), CliContext.Text(p["mappingCount"]),
                    Markup.Escape(string.Join(", ", counts)), CliContext.Text(p["id"]));
            }
            context.Console.Write(table);
            return 0;
        });
        var name = new Option<string>("--name") { Description = "The project's name.", Required = true };
        var source = new Option<Guid>("--source") { Description = "The source connection id.", Required = true };
        var destination = new Option<Guid>("--destination") { Description = "The destination connection id.", Required = true };
        var policy = new Option<Guid>("--policy") { Description = "The migration policy id.", Required = true };
        var tags = new Option<string[]>("--tag") { Description = "A tag (repeatable).", AllowMultipleArgumentsPerToken = false };
        var create = new Command("create", "Create a project.") { name, source, destination, policy, tags };
        create.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var answer = await client.PostAsync("/api/v1/projects", new
            {
                name = parse.GetValue(name),
                tags = parse.GetValue(tags) ?? [],
                sourceConnectionId = parse.GetValue(source),
                destinationConnectionId = parse.GetValue(destination),
                policyId = parse.GetValue(policy),
            }, ct);
            context.Console.MarkupLineInterpolated($"Created project [bold]{(string?)answer["name"]}[/] ({answer["id"]}).");
            return 0;
        });
        return new Command("projects", "Migration projects.") { list, create }.WithArchive(context);
    }

    /// <summary>Prints an error answer's rows (import errors, refusals) as a table.</summary>
    public static void PrintProblemRows(CliContext context, JsonElement? problem)
    {
        if (problem is not { } p)
        {
            return;
        }
        if (p.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0)
        {
            var table = new Table().AddColumns("Row / field", "Column", "Reason");
            foreach (var e in errors.EnumerateArray().Take(200))
            {
                var where = e.TryGetProperty("row", out var row) ? row.ToString() : e.GetProperty("field").GetString();
                var column = e.TryGetProperty("column", out var c) ? c.ToString() : e.TryGetProperty("rule", out var r) ? r.GetString() : "";
                table.AddRow(Markup.Escape(where ?? ""), Markup.Escape(column ?? ""), Markup.Escape(e.TryGetProperty("reason", out var reason) ? reason.GetString()! : e.GetProperty("message").GetString()!));
            }
            context.Console.Write(table);
        }
        if (p.TryGetProperty("refusals", out var refusals))
        {
            RunCommands.PrintRefusals(context, refusals.EnumerateArray().ToList());
        }
    }
}
