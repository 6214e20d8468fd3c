using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rehome.Cli.Client;
using Rehome.Core.Validation;
using Spectre.Console;

namespace Rehome.Cli.Commands;

/// <summary>
/// What every command shares: the global options, the consoles, how to reach the server, and how an answer is
/// shown (a table for people, the server's JSON with <c>--output json</c>).
/// </summary>
public sealed class CliContext(IAnsiConsole console, IAnsiConsole? messages = null)
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly IAnsiConsole _messages = messages ?? console;

    public Option<string?> ServerOption { get; } = new("--server")
    {
        Description = "The Rehome server URL (default: the one saved by 'rehome login', or REHOME_SERVER).",
        Recursive = true,
    };

    public Option<string?> ConfigOption { get; } = new("--config")
    {
        Description = "The CLI's config file (default: ~/.config/rehome/config.json, or REHOME_CONFIG).",
        Recursive = true,
    };

    public Option<string> OutputOption { get; } = CreateOutputOption();

    /// <summary>True once the command line asked for <c>--output json</c> (set before the command runs).</summary>
    public bool Json { get; set; }

    /// <summary>
    /// Where text for people goes: the terminal, or with <c>--output json</c> the error stream, so that standard
    /// output holds the one JSON document a script reads and nothing else.
    /// </summary>
    public IAnsiConsole Console => Json ? _messages : console;

    /// <summary>Where errors go (standard error on the terminal).</summary>
    public IAnsiConsole Messages => _messages;

    public string ConfigPath(ParseResult parse) => parse.GetValue(ConfigOption) ?? CliConfig.DefaultPath();

    /// <summary>A client signed in with the saved token (or REHOME_TOKEN), or a clear error saying to log in.</summary>
    public RehomeApiClient Client(ParseResult parse)
    {
        var config = CliConfig.Load(ConfigPath(parse));
        var server = parse.GetValue(ServerOption) ?? Environment.GetEnvironmentVariable("REHOME_SERVER") ?? config?.Server;
        var token = Environment.GetEnvironmentVariable("REHOME_TOKEN") ?? config?.Token;
        if (server is null || token is null)
        {
            throw new CliException(
                "Not signed in: run 'rehome login --server <url> --user <name>' first (or set REHOME_SERVER and REHOME_TOKEN).", ExitCodes.NotAllowed);
        }
        return new RehomeApiClient(new Uri(server), token);
    }

    /// <summary>
    /// Shows a command's answer: <paramref name="render"/> draws it for people; with <c>--output json</c> the answer
    /// is written instead as the server sent it (see <see cref="JsonText"/>).
    /// </summary>
    public void Show(JsonNode? answer, Action render)
    {
        if (Json)
        {
            WriteJson(answer);
        }
        else
        {
            render();
        }
    }

    /// <summary>Writes <paramref name="node"/> to standard output, past the console's renderer: JSON is never wrapped at the terminal's width.</summary>
    public void WriteJson(JsonNode? node) => console.Profile.Out.Writer.WriteLine(JsonText(node));

    /// <summary>
    /// The indented JSON text of <paramref name="node"/>. Every control or bidirectional character in it is written as
    /// its \u escape (still the same JSON: they occur only inside strings), so nothing from outside reaches the terminal raw.
    /// </summary>
    public static string JsonText(JsonNode? node)
    {
        var text = node?.ToJsonString(Indented) ?? "null";
        if (TextRules.IndexOfRefused(text, multiLine: true) < 0)
        {
            return text;
        }
        var safe = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (TextRules.IsRefused(c, multiLine: true))
            {
                safe.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
            else
            {
                safe.Append(c);
            }
        }
        return safe.ToString();
    }

    /// <summary>A project id, or a project name looked up in the list.</summary>
    /// <summary>A <c>--mappings</c> option's comma-separated ids, or null when it was not given.</summary>
    public static List<Guid>? MappingIds(string? commaSeparated) =>
        commaSeparated?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(text => Guid.TryParse(text, out var id) ? id : throw new CliException($"'{Terminal.Safe(text)}' is not a mapping id.")).ToList();

    public static async Task<Guid> ResolveProjectAsync(RehomeApiClient client, string idOrName, CancellationToken ct)
    {
        if (Guid.TryParse(idOrName, out var id))
        {
            return id;
        }
        // Archived projects are left out of the default list, yet their reports and archive are still asked for by name.
        foreach (var list in new[] { "/api/v1/projects", "/api/v1/projects?archived=true" })
        {
            if ((await client.GetAsync(list, ct)).AsArray().FirstOrDefault(p => string.Equals((string?)p!["name"], idOrName, StringComparison.OrdinalIgnoreCase)) is { } match)
            {
                return Guid.Parse((string)match["id"]!);
            }
        }
        throw new CliException($"No project is named '{Terminal.Safe(idOrName)}', archived or not. 'rehome projects list' and 'rehome projects list --archived' show them.", ExitCodes.NotFound);
    }

    /// <summary>A value from the server as the terminal may show it (see <see cref="Terminal"/>).</summary>
    public static string Text(JsonNode? node) => Terminal.Safe(node?.ToString());

    private static Option<string> CreateOutputOption()
    {
        var output = new Option<string>("--output", "-o")
        {
            Description = "table (default: for people) or json (the server's answer as received, for scripts; messages go to standard error).",
            DefaultValueFactory = _ => "table",
            Recursive = true,
        };
        output.AcceptOnlyFromAmong("table", "json");
        return output;
    }
}

/// <summary>An error the CLI explains in one sentence and exits with <see cref="ExitCode"/> for.</summary>
public sealed class CliException(string message, int exitCode = ExitCodes.Refused) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
