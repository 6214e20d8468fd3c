using System.Text.Json;
using Rehome.Protocol;

namespace Rehome.Agent.Journal;

/// <summary>
/// The device's log of one job: appended to a file in the job's folder (so it survives a restart) and uploaded
/// to the server in chunks; a chunk's sequence is the number of its first line, so a resent chunk is harmless.
/// </summary>
public sealed class JobLog(string file, TimeProvider time)
{
    private readonly Lock gate = new();

    public void Information(string text) => Write("Information", text);

    public void Warning(string text) => Write("Warning", text);

    public void Error(string text) => Write("Error", text);

    public void Write(string level, string text)
    {
        var line = JsonSerializer.Serialize(new LogLine(time.GetUtcNow(), level, text), AgentProtocol.JsonOptions);
        lock (gate)
        {
            File.AppendAllLines(file, [line]);
        }
    }

    /// <summary>The lines after the first <paramref name="skip"/>, at most <paramref name="max"/>.</summary>
    public IReadOnlyList<LogLine> Read(int skip, int max)
    {
        lock (gate)
        {
            if (!File.Exists(file))
            {
                return [];
            }
            return [.. File.ReadLines(file).Skip(skip).Take(max).Select(Parse)];
        }
    }

    /// <summary>A line torn by a crash mid-write is kept as what it is rather than lost or fatal.</summary>
    private static LogLine Parse(string line)
    {
        try
        {
            return JsonSerializer.Deserialize<LogLine>(line, AgentProtocol.JsonOptions) ?? new LogLine(DateTimeOffset.MinValue, "Warning", line);
        }
        catch (JsonException)
        {
            return new LogLine(DateTimeOffset.MinValue, "Warning", "(a log line torn by a crash) " + line);
        }
    }
}
