using System.Text.Json;
using Rehome.Protocol;

namespace Rehome.Agent.Journal;

/// <summary>
/// Writes a file so that a crash or power loss leaves either the old or the new content, never half of each:
/// write a temporary file, flush it to disk, rename it over the old one.
/// </summary>
public static class DurableFile
{
    /// <summary>
    /// Whether a write waits until the disk has it (fsync). True on every device. A process simulating thousands of
    /// devices on one disk turns it off: there the fsyncs queue on the one disk and block the threads that renew
    /// the devices' leases, where a real device has a disk of its own; and the kill of a process, which the fleet's
    /// fault tests do, loses nothing not flushed (the write-and-rename still makes each file old or new, never half).
    /// </summary>
    public static bool FlushToDisk { get; set; } = true;

    public static void WriteJson<T>(string path, T value)
    {
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, value, AgentProtocol.JsonOptions);
            stream.Flush(flushToDisk: FlushToDisk);
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
