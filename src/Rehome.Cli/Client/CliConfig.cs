using System.Text.Json;

namespace Rehome.Cli.Client;

/// <summary>
/// Where the CLI keeps the server address and its API token: <c>$XDG_CONFIG_HOME/rehome/config.json</c>
/// (or <c>~/.config/rehome</c>; <c>%APPDATA%\rehome</c> on Windows), readable by the user only.
/// </summary>
public sealed record CliConfig(string Server, string Token)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static string DefaultPath()
    {
        var overridden = Environment.GetEnvironmentVariable("REHOME_CONFIG");
        if (!string.IsNullOrEmpty(overridden))
        {
            return overridden;
        }
        var root = OperatingSystem.IsWindows()
            ? Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData)
            : Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        return Path.Combine(root, "rehome", "config.json");
    }

    public static CliConfig? Load(string path) =>
        File.Exists(path) ? JsonSerializer.Deserialize<CliConfig>(File.ReadAllText(path), Json) : null;

    /// <summary>Writes the file so that only its owner can read it: it holds a bearer token.</summary>
    public void Save(string path)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(path, options))
        {
            JsonSerializer.Serialize(stream, this, Json);
        }
        if (!OperatingSystem.IsWindows())
        {
            // UnixCreateMode applies only to new files; an existing file keeps its mode unless set again.
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
