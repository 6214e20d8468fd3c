using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rehome.Cli.Client;
using Rehome.Core.Policies;
using Spectre.Console;

namespace Rehome.Cli.Commands;

/// <summary><c>rehome connections</c>, <c>rehome policies</c>, <c>rehome projects</c>: list, show, create, update, delete.</summary>
public static class ResourceCommands
{
    public static Command Connections(CliContext context)
    {
        var list = new Command("list", "List connections (secrets are never shown).");
        list.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var connections = await client.GetAsync("/api/v1/connections", ct);
            context.Show(connections, () =>
            {
                var table = new Table().AddColumns("Name", "Role", "Kind", "Details", "Id");
                foreach (var c in connections.AsArray())
                {
                    table.AddRow(Markup.Escape(CliContext.Text(c!["name"])), CliContext.Text(c["role"]), CliContext.Text(c["kind"]),
                        Markup.Escape(Details(c)), CliContext.Text(c["id"]));
                }
                context.Console.Write(table);
            });
            return 0;
        });

        var showId = new Argument<Guid>("connection-id");
        var show = new Command("show", "Show one connection: its role, kind and settings (secrets only as whether they are set).") { showId };
        show.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var connection = await client.GetAsync($"/api/v1/connections/{parse.GetValue(showId)}", ct);
            context.Show(connection, () => PrintTree(context, connection));
            return 0;
        });

        var file = new Option<FileInfo>("--file") { Description = "A JSON file with the connection (as POST /api/v1/connections takes it).", Required = true };
        var create = new Command("create", "Create a connection from a JSON file; a source's configuration key is shown once.") { file };
        create.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var answer = await client.PostAsync("/api/v1/connections", await ReadJsonAsync(parse.GetValue(file)!, ct), ct);
            context.Show(answer, () =>
            {
                context.Console.MarkupLineInterpolated($"Created connection [bold]{CliContext.Text(answer["connection"]?["name"])}[/] ({answer["connection"]?["id"]}).");
                ShowKey(context, answer["configurationKey"]);
            });
            return 0;
        });

        var updateId = new Argument<Guid>("connection-id");
        var updateFile = new Option<FileInfo>("--file")
        {
            Description = "A JSON file with the whole connection (as PUT /api/v1/connections/{id} takes it); a secret left out keeps the stored one.",
            Required = true,
        };
        var update = new Command("update", "Replace a connection's settings from a JSON file ('connections show -o json' gives a start).") { updateId, updateFile };
        update.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var answer = await client.PutAsync($"/api/v1/connections/{parse.GetValue(updateId)}", await ReadJsonAsync(parse.GetValue(updateFile)!, ct), ct);
            context.Show(answer, () => context.Console.MarkupLineInterpolated($"Connection [bold]{CliContext.Text(answer["name"])}[/] saved."));
            return 0;
        });

        var id = new Argument<Guid>("connection-id");
        var rotate = new Command("rotate-key", "Replace a source connection's configuration key (agents already enrolled keep working).") { id };
        rotate.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var answer = await client.PostAsync($"/api/v1/connections/{parse.GetValue(id)}/configuration-key", new { }, ct);
            context.Show(answer, () => ShowKey(context, answer["configurationKey"]));
            return 0;
        });
        return new Command("connections", "Source and destination directories.")
        {
            list, show, create, update, Delete(context, "connection", "/api/v1/connections", "Delete a connection no project uses."),
            rotate, Package(context), DirectoryCommands.TestConnection(context),
        };
    }

    private static string Details(JsonNode c) => (string?)c["role"] == "Destination"
        ? $"{CliContext.Text(c["destination"]?["domainDnsName"])} {CliContext.Text(c["destination"]?["rejoinMethod"])}"
        : (bool?)c["source"]?["entraId"]?["enabled"] == true ? "Entra ID enabled" : "";

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
            context.Show(answer, () => context.Console.MarkupLineInterpolated(
                $"Uploaded the provisioning package of [bold]{CliContext.Text(answer["name"])}[/] ({(long?)part?["bulkEnrollmentPackageBytes"]:N0} bytes)."));
            return 0;
        });
        var removeId = new Argument<Guid>("connection-id");
        var remove = new Command("remove", "Remove the connection's provisioning package.") { removeId };
        remove.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var answer = await client.DeleteAsync($"/api/v1/connections/{parse.GetValue(removeId)}/bulk-enrollment-package", ct);
            context.Show(answer, () => context.Console.MarkupLine("Removed the provisioning package."));
            return 0;
        });
        return new Command("package", "An Entra ID connection's bulk enrollment provisioning package (the destination's join, or a source's way back).") { set, remove };
    }

    private static void ShowKey(CliContext context, JsonNode? key)
    {
        if (key is not null)
        {
            context.Console.MarkupLineInterpolated($"Configuration key (shown only now; agents enroll with it): [bold yellow]{CliContext.Text(key)}[/]");
        }
    }

    public static Command Policies(CliContext context)
    {
        var list = new Command("list", "List migration policies.");
        list.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var policies = await client.GetAsync("/api/v1/policies", ct);
            context.Show(policies, () =>
            {
                var table = new Table().AddColumns("Name", "Re-ACL mode", "Areas", "Forced rejoin after", "Id");
                foreach (var p in policies.AsArray())
                {
                    table.AddRow(Markup.Escape(CliContext.Text(p!["name"])), CliContext.Text(p["settings"]?["reaclMode"]),
                        Markup.Escape(CliContext.Text(p["settings"]?["areas"]?["kinds"])),
                        CliContext.Text(p["settings"]?["forcedRejoin"]?["forceAfter"]), CliContext.Text(p["id"]));
                }
                context.Console.Write(table);
            });
            return 0;
        });

        var showId = new Argument<Guid>("policy-id");
        var show = new Command("show", "Show a migration policy with all its settings.") { showId };
        show.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var policy = await client.GetAsync($"/api/v1/policies/{parse.GetValue(showId)}", ct);
            context.Show(policy, () => PrintTree(context, policy));
            return 0;
        });

        var create = new Command("create", "Create a migration policy.");
        var createOptions = new PolicyOptions(create, forUpdate: false);
        create.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var answer = await client.PostAsync("/api/v1/policies", await createOptions.BodyAsync(parse, null, ct), ct);
            context.Show(answer, () => context.Console.MarkupLineInterpolated($"Created policy [bold]{CliContext.Text(answer["name"])}[/] ({answer["id"]})."));
            return 0;
        });

        var updateId = new Argument<Guid>("policy-id");
        var update = new Command("update", "Change a migration policy: a new name, a settings file (replaces the settings), areas; what is not given stays.") { updateId };
        var updateOptions = new PolicyOptions(update, forUpdate: true);
        update.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var current = await client.GetAsync($"/api/v1/policies/{parse.GetValue(updateId)}", ct);
            var answer = await client.PutAsync($"/api/v1/policies/{parse.GetValue(updateId)}", await updateOptions.BodyAsync(parse, current, ct), ct);
            context.Show(answer, () => context.Console.MarkupLineInterpolated($"Policy [bold]{CliContext.Text(answer["name"])}[/] saved."));
            return 0;
        });
        return new Command("policies", "Migration policies.")
        {
            list, show, create, update, Delete(context, "policy", "/api/v1/policies", "Delete a migration policy no project uses."),
        };
    }

    /// <summary>The options of <c>policies create</c> and <c>update</c>, and the body they make.</summary>
    private sealed class PolicyOptions
    {
        private readonly Option<string?> _name;
        private readonly Option<FileInfo?> _settings = new("--settings") { Description = "A JSON file with the policy settings (defaults for what it leaves out)." };
        private readonly Option<string?> _areas = new("--areas")
        {
            Description = $"Comma-separated areas beyond files and registry whose permissions migrate ({string.Join(", ", Enum.GetNames<AreaKinds>())}); " +
                "replaces the settings file's.",
        };

        public PolicyOptions(Command command, bool forUpdate)
        {
            _name = new Option<string?>("--name") { Description = forUpdate ? "A new name." : "The policy's name.", Required = !forUpdate };
            command.Add(_name);
            command.Add(_settings);
            command.Add(_areas);
        }

        /// <summary>The policy to send: what was given, over <paramref name="current"/> for an update.</summary>
        public async Task<JsonObject> BodyAsync(ParseResult parse, JsonNode? current, CancellationToken ct)
        {
            var settingsFile = parse.GetValue(_settings);
            var settingsJson = settingsFile is not null ? await ReadJsonAsync(settingsFile, ct) as JsonObject ?? new JsonObject()
                : current?["settings"]?.DeepClone() as JsonObject;
            if (parse.GetValue(_areas) is { } areaText)
            {
                settingsJson ??= new JsonObject();
                // The default paths stay unless the file gives its own.
                var areaSettings = settingsJson["areas"] as JsonObject ?? JsonSerializer.SerializeToNode(AreaSettings.Default, RehomeApiClient.Json)!.AsObject();
                areaSettings["kinds"] = ParseAreaKinds(areaText).ToString();
                settingsJson["areas"] = areaSettings;
            }
            return new JsonObject { ["name"] = parse.GetValue(_name) ?? (string?)current?["name"], ["settings"] = settingsJson };
        }
    }

    internal static AreaKinds ParseAreaKinds(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(k => Enum.TryParse<AreaKinds>(k, true, out var kind) && Enum.IsDefined(kind) && !int.TryParse(k, out _)
                ? kind
                : throw new CliException($"'{Terminal.Safe(k)}' is not an area; use {string.Join(", ", Enum.GetNames<AreaKinds>())}."))
            .Aggregate(AreaKinds.None, (all, kind) => all | kind);

    public static Command Projects(CliContext context)
    {
        var archived = new Option<bool>("--archived") { Description = "List the archived projects instead (the default list leaves them out)." };
        var list = new Command("list", "List projects with their mappings by status.") { archived };
        list.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var projects = await client.GetAsync(parse.GetValue(archived) ? "/api/v1/projects?archived=true" : "/api/v1/projects", ct);
            context.Show(projects, () =>
            {
                var table = new Table().AddColumns("Name", "Mappings", "By status", "Id");
                foreach (var p in projects.AsArray())
                {
                    table.AddRow(Markup.Escape(CliContext.Text(p!["name"])), CliContext.Text(p["mappingCount"]), Markup.Escape(ByStatus(p)), CliContext.Text(p["id"]));
                }
                context.Console.Write(table);
            });
            return 0;
        });

        var showProject = new Argument<string>("project") { Description = "The project's name or id." };
        var show = new Command("show", "Show a project: its connections, policy, tags and mappings by status.") { showProject };
        show.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var project = await client.GetAsync($"/api/v1/projects/{await CliContext.ResolveProjectAsync(client, parse.GetValue(showProject)!, ct)}", ct);
            context.Show(project, () =>
            {
                var grid = new Grid().AddColumn().AddColumn();
                grid.AddRow("Name", Markup.Escape(CliContext.Text(project["name"])));
                grid.AddRow("Tags", Markup.Escape(string.Join(", ", project["tags"]?.AsArray().Select(t => CliContext.Text(t)) ?? [])));
                grid.AddRow("Source connection", CliContext.Text(project["sourceConnectionId"]));
                grid.AddRow("Destination connection", CliContext.Text(project["destinationConnectionId"]));
                grid.AddRow("Policy", CliContext.Text(project["policyId"]));
                grid.AddRow("Mappings", $"{CliContext.Text(project["mappingCount"])}: {Markup.Escape(ByStatus(project))}");
                grid.AddRow("Id", CliContext.Text(project["id"]));
                context.Console.Write(grid);
            });
            return 0;
        });

        var create = new Command("create", "Create a project.");
        var createOptions = new ProjectOptions(create, forUpdate: false);
        create.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var answer = await client.PostAsync("/api/v1/projects", createOptions.Body(parse, null), ct);
            context.Show(answer, () => context.Console.MarkupLineInterpolated($"Created project [bold]{CliContext.Text(answer["name"])}[/] ({answer["id"]})."));
            return 0;
        });

        var updateProject = new Argument<string>("project") { Description = "The project's name or id." };
        var update = new Command("update", "Change a project: name, tags (replaced when given), connections, policy; what is not given stays.") { updateProject };
        var updateOptions = new ProjectOptions(update, forUpdate: true);
        update.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var id = await CliContext.ResolveProjectAsync(client, parse.GetValue(updateProject)!, ct);
            var current = await client.GetAsync($"/api/v1/projects/{id}", ct);
            var answer = await client.PutAsync($"/api/v1/projects/{id}", updateOptions.Body(parse, current), ct);
            context.Show(answer, () => context.Console.MarkupLineInterpolated($"Project [bold]{CliContext.Text(answer["name"])}[/] saved."));
            return 0;
        });

        var deleteProject = new Argument<string>("project") { Description = "The project's name or id." };
        var delete = new Command("delete", "Delete a project with its mappings and their history (not while it has jobs waiting or running).") { deleteProject };
        delete.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var id = await CliContext.ResolveProjectAsync(client, parse.GetValue(deleteProject)!, ct);
            var answer = await client.DeleteAsync($"/api/v1/projects/{id}", ct);
            context.Show(answer, () => context.Console.MarkupLineInterpolated($"Project {Terminal.Safe(parse.GetValue(deleteProject))} deleted."));
            return 0;
        });
        return new Command("projects", "Migration projects.") { list, show, create, update, delete }.WithArchive(context);
    }

    private static string ByStatus(JsonNode p) =>
        string.Join(", ", p["mappingsByStatus"]?.AsObject().Select(kv => $"{Terminal.Safe(kv.Key)} {kv.Value}") ?? []);

    /// <summary>The options of <c>projects create</c> and <c>update</c>, and the body they make.</summary>
    private sealed class ProjectOptions
    {
        private readonly Option<string?> _name;
        private readonly Option<Guid?> _source;
        private readonly Option<Guid?> _destination;
        private readonly Option<Guid?> _policy;
        private readonly Option<string[]> _tags = new("--tag") { Description = "A tag (repeat for several; on update, replaces the tags).", AllowMultipleArgumentsPerToken = false };

        public ProjectOptions(Command command, bool forUpdate)
        {
            _name = new Option<string?>("--name") { Description = forUpdate ? "A new name." : "The project's name.", Required = !forUpdate };
            _source = new Option<Guid?>("--source") { Description = "The source connection id.", Required = !forUpdate };
            _destination = new Option<Guid?>("--destination") { Description = "The destination connection id.", Required = !forUpdate };
            _policy = new Option<Guid?>("--policy") { Description = "The migration policy id.", Required = !forUpdate };
            command.Add(_name);
            command.Add(_source);
            command.Add(_destination);
            command.Add(_policy);
            command.Add(_tags);
        }

        public JsonObject Body(ParseResult parse, JsonNode? current) => new()
        {
            ["name"] = parse.GetValue(_name) ?? (string?)current?["name"],
            ["tags"] = parse.GetValue(_tags) is { Length: > 0 } tags ? new JsonArray([.. tags.Select(t => JsonValue.Create(t))]) : current?["tags"]?.DeepClone() ?? new JsonArray(),
            ["sourceConnectionId"] = parse.GetValue(_source) ?? (Guid?)current?["sourceConnectionId"],
            ["destinationConnectionId"] = parse.GetValue(_destination) ?? (Guid?)current?["destinationConnectionId"],
            ["policyId"] = parse.GetValue(_policy) ?? (Guid?)current?["policyId"],
        };
    }

    /// <summary><c>delete ID</c> of a connection or policy: a DELETE; the server says when something still uses it.</summary>
    private static Command Delete(CliContext context, string what, string path, string description)
    {
        var id = new Argument<Guid>($"{what}-id");
        var delete = new Command("delete", description) { id };
        delete.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var answer = await client.DeleteAsync($"{path}/{parse.GetValue(id)}", ct);
            context.Show(answer, () => context.Console.MarkupLineInterpolated($"Deleted {what} {parse.GetValue(id)}."));
            return 0;
        });
        return delete;
    }

    private static async Task<JsonNode> ReadJsonAsync(FileInfo file, CancellationToken ct)
    {
        try
        {
            return JsonNode.Parse(await File.ReadAllTextAsync(file.FullName, ct)) ?? throw new CliException($"{file.Name} holds no JSON.");
        }
        catch (JsonException e)
        {
            throw new CliException($"{file.Name} is not JSON: {e.Message}");
        }
        catch (FileNotFoundException)
        {
            throw new CliException($"There is no file {file.FullName}.", ExitCodes.Usage);
        }
    }

    /// <summary>A JSON object for people: one row per value, nested names joined with dots.</summary>
    internal static void PrintTree(CliContext context, JsonNode node)
    {
        var grid = new Grid().AddColumn().AddColumn();
        AddRows(grid, "", node);
        context.Console.Write(grid);

        static void AddRows(Grid grid, string prefix, JsonNode? node)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (key, value) in o)
                    {
                        AddRows(grid, prefix.Length == 0 ? key : $"{prefix}.{key}", value);
                    }
                    break;
                case JsonArray a when a.All(v => v is JsonValue):
                    grid.AddRow(Markup.Escape(Terminal.Safe(prefix)), Markup.Escape(string.Join(", ", a.Select(v => CliContext.Text(v)))));
                    break;
                case JsonArray a:
                    for (var i = 0; i < a.Count; i++)
                    {
                        AddRows(grid, $"{prefix}[{i}]", a[i]);
                    }
                    break;
                default:
                    grid.AddRow(Markup.Escape(Terminal.Safe(prefix)), Markup.Escape(CliContext.Text(node)));
                    break;
            }
        }
    }

    /// <summary>Prints an error answer's rows (import errors, refusals) as a table, on <paramref name="console"/> (default: the context's).</summary>
    public static void PrintProblemRows(CliContext context, JsonElement? problem, IAnsiConsole? console = null)
    {
        if (problem is not { } p)
        {
            return;
        }
        console ??= context.Console;
        if (p.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0)
        {
            var table = new Table().AddColumns("Row / field", "Column", "Reason");
            foreach (var e in errors.EnumerateArray().Take(200))
            {
                var where = e.TryGetProperty("row", out var row) ? row.ToString() : Text(e, "field");
                var column = e.TryGetProperty("column", out var c) ? c.ToString() : Text(e, "rule");
                table.AddRow(Markup.Escape(Terminal.Safe(where)), Markup.Escape(Terminal.Safe(column)),
                    Markup.Escape(Terminal.Safe(e.TryGetProperty("reason", out _) ? Text(e, "reason") : Text(e, "message"))));
            }
            console.Write(table);
        }
        if (p.TryGetProperty("refusals", out var refusals) && refusals.ValueKind == JsonValueKind.Array)
        {
            RunCommands.PrintRefusals(console, refusals.EnumerateArray().ToList());
        }

        static string Text(JsonElement e, string name) =>
            e.TryGetProperty(name, out var value) ? value.ValueKind == JsonValueKind.String ? value.GetString() ?? "" : value.ToString() : "";
    }
}
