using System.Text;
using System.Text.Json;

namespace Rehome.Agent.Uninstall;

/// <summary>
/// The agent's own files in its program folder, as its <c>.deps.json</c> lists them (its assemblies, the packages'
/// runtime, native and resource files, the runtime's when self-contained) plus its host, settings and symbols; and the
/// script that deletes exactly those once the agent has exited. The folder may hold other programs (the agent can be
/// installed from wherever it was unpacked): what is not the agent's stays, and a folder that is not empty stays.
/// </summary>
public static class AgentProgramFiles
{
    /// <summary>The agent's files that exist in <paramref name="folder"/>, full paths; none without its deps.json.</summary>
    public static IReadOnlyList<string> In(string folder, string applicationName)
    {
        var deps = Path.Combine(folder, applicationName + ".deps.json");
        if (!File.Exists(deps))
        {
            return [];
        }
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            applicationName + ".exe", applicationName, applicationName + ".dll", applicationName + ".pdb",
            applicationName + ".deps.json", applicationName + ".runtimeconfig.json", "appsettings.json",
        };
        using (var document = JsonDocument.Parse(File.ReadAllBytes(deps)))
        {
            if (document.RootElement.TryGetProperty("targets", out var targets) && targets.ValueKind == JsonValueKind.Object)
            {
                foreach (var library in targets.EnumerateObject().SelectMany(t => t.Value.ValueKind == JsonValueKind.Object ? t.Value.EnumerateObject() : default))
                {
                    AddAssets(names, library.Value);
                }
            }
        }
        var root = Path.GetFullPath(folder);
        return [.. names
            .Select(n => Path.GetFullPath(Path.Combine(root, n)))
            .Where(p => IsInside(root, p) && File.Exists(p))
            .Order(StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>
    /// A cmd.exe script that waits a few seconds for the agent to exit, deletes <paramref name="files"/>, then the
    /// folders that held them, deepest first, each only if now empty (<c>rmdir</c> without <c>/s</c>), then itself.
    /// </summary>
    public static string Script(string folder, IReadOnlyList<string> files)
    {
        var root = Path.GetFullPath(folder);
        var folders = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { root };
        foreach (var file in files)
        {
            for (var parent = Path.GetDirectoryName(file); parent is not null && IsInside(root, parent); parent = Path.GetDirectoryName(parent))
            {
                folders.Add(parent);
            }
        }
        var script = new StringBuilder("@echo off\r\nping -n 6 127.0.0.1 >nul\r\n");
        foreach (var file in files)
        {
            script.Append($"del /f /q {Quoted(file)} 2>nul\r\n");
        }
        foreach (var emptied in folders.OrderByDescending(f => f.Length))
        {
            script.Append($"rmdir {Quoted(emptied)} 2>nul\r\n");
        }
        return script.Append("del /f /q \"%~f0\" 2>nul\r\n").ToString();
    }

    private static void AddAssets(HashSet<string> names, JsonElement library)
    {
        if (library.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        // Published, runtime and native files sit in the folder itself; resources in their culture's folder; runtime
        // targets keep their relative path (runtimes/win/lib/...).
        foreach (var asset in Assets(library, "runtime").Concat(Assets(library, "native")))
        {
            names.Add(Path.GetFileName(asset.Name));
            if (asset.Name.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            {
                names.Add(Path.ChangeExtension(Path.GetFileName(asset.Name), ".pdb"));
            }
        }
        foreach (var asset in Assets(library, "resources"))
        {
            if (asset.Value.TryGetProperty("locale", out var locale) && locale.GetString() is { Length: > 0 } culture)
            {
                names.Add(Path.Combine(culture, Path.GetFileName(asset.Name)));
            }
        }
        foreach (var asset in Assets(library, "runtimeTargets"))
        {
            names.Add(asset.Name.Replace('/', Path.DirectorySeparatorChar));
        }
    }

    private static IEnumerable<JsonProperty> Assets(JsonElement library, string kind) =>
        library.TryGetProperty(kind, out var assets) && assets.ValueKind == JsonValueKind.Object ? assets.EnumerateObject() : [];

    /// <summary>A name from deps.json that is rooted or climbs out (<c>..</c>) is not the agent's file.</summary>
    private static bool IsInside(string root, string path)
    {
        var relative = Path.GetRelativePath(root, path);
        return relative != "." && !Path.IsPathRooted(relative) && !relative.Split(Path.DirectorySeparatorChar).Contains("..");
    }

    /// <summary>Quoted for cmd.exe: a percent sign doubled (a script expands it); Windows allows no quote in a path.</summary>
    private static string Quoted(string path) => path.Contains('"', StringComparison.Ordinal)
        ? throw new ArgumentException($"A path with a quote cannot be passed to cmd.exe: {path}", nameof(path))
        : $"\"{path.Replace("%", "%%", StringComparison.Ordinal)}\"";
}
