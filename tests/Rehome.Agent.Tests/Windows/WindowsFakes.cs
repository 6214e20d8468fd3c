using Microsoft.Extensions.Logging;
using Rehome.Agent.Platform.Windows;

namespace Rehome.Agent.Tests.Windows;

// Fakes of the Windows platform's native seams: dictionaries that answer as Windows does (status codes included),
// so that the decisions of the Windows classes run here. One file per seam; the shared ones here.

internal sealed class FakeRegistryValues : IRegistryValues
{
    public Dictionary<(string Key, string Name), object> Values { get; } = [];

    public Dictionary<string, List<string>> Subkeys { get; } = new(StringComparer.OrdinalIgnoreCase);

    public object? Get(string key, string name) => Values.GetValueOrDefault((key, name));

    public void SetString(string key, string name, string value) => Values[(key, name)] = value;

    public void Delete(string key, string name) => Values.Remove((key, name));

    public IReadOnlyList<string> SubkeyNames(string key) => Subkeys.GetValueOrDefault(key) ?? [];
}

/// <summary>Keeps every log line whole (the message and each structured value), to check what never appears in one.</summary>
internal sealed class RecordingLogger : ILogger
{
    public List<string> Lines { get; } = [];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
        Lines.Add($"{logLevel} {formatter(state, exception)} {values} {exception}");
    }
}
