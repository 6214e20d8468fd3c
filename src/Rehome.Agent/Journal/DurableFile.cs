using System.Text.Json;
using Rehome.Protocol;

namespace Rehome.Agent.Journal;

/// <summary>
/// Writes a file so that a crash or power loss leaves either the old or the new content, never half of each:
/// write a temporary file, flush it to disk, rename it over the old one.
/// </summary>
public static class DurableFile
{
    public static void WriteJson<T>(string path, T value)
    {
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, value, AgentProtocol.JsonOptions);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    public static T? ReadJson<T>(string path) where T : class
    {
        if (!File.Exists(path))
        {
            return null;
        }
        using var stream = File.OpenRead(path);
        return JsonSerializer.Deserialize<T>(stream, AgentProtocol.JsonOptions);
    }
}
