using System.CommandLine;
using System.Text.Json.Nodes;
using Rehome.Cli.Client;
using Spectre.Console;

namespace Rehome.Cli.Commands;

/// <summary>What every command shares: the global options, the console, and how to reach the server.</summary>
public sealed class CliContext(IAnsiConsole console)
{
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

    public IAnsiConsole Console { get; } = console;

    public string ConfigPath(ParseResult parse) => parse.GetValue(ConfigOption) ?? CliConfig.DefaultPath();

    /// <summary>A client signed in with the saved token (or REHOME_TOKEN), or a clear error saying to log in.</summary>
    public RehomeApiClient Client(ParseResult parse)
    {
        var config = CliConfig.Load(ConfigPath(parse));
        var server = parse.GetValue(ServerOption) ?? Environment.GetEnvironmentVariable("REHOME_SERVER") ?? config?.Server;
        var token = Environment.GetEnvironmentVariable("REHOME_TOKEN") ?? config?.Token;
        if (server is null || token is null)
        {
            throw new CliException("Not signed in: run 'rehome login --server <url> --user <name>' first (or set REHOME_SERVER and REHOME_TOKEN).");
        }
        return new RehomeApiClient(new Uri(server), token);
    }

    /// <summary>A project id, or a project name looked up in the list.</summary>
    public static async Task<Guid> ResolveProjectAsync(RehomeApiClient client, string idOrName, CancellationToken ct)
    {
        if (Guid.TryParse(idOrName, out var id))
        {
            return id;
        }
        var projects = (await client.GetAsync("/api/v1/projects", ct)).AsArray();
        var match = projects.FirstOrDefault(p => string.Equals((string?)p!["name"], idOrName, StringComparison.OrdinalIgnoreCase))
            ?? throw new CliException($"No project is named '{idOrName}'. 'rehome projects list' shows them.");
        return Guid.Parse((string)match["id"]!);
    }

    /// <summary>A value from the server as the terminal may show it (see <see cref="Terminal"/>).</summary>
    public static string Text(JsonNode? node) => Terminal.Safe(node?.ToString());
}

/// <summary>An error the CLI explains in one sentence and exits non-zero for.</summary>
public sealed class CliException(string message) : Exception(message);
