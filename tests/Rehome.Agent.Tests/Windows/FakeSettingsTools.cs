using Rehome.Agent.Platform.Windows;

namespace Rehome.Agent.Tests.Windows;

internal sealed class FakeSettingsTools : ISettingsTools
{
    public List<(SettingsTool Tool, IReadOnlyList<string> Arguments)> Runs { get; } = [];

    public Func<SettingsTool, IReadOnlyList<string>, ToolResult> Answer { get; set; } = (_, _) => new ToolResult(0, "", "");

    public Task<ToolResult> RunAsync(SettingsTool tool, IReadOnlyList<string> arguments, CancellationToken ct)
    {
        Runs.Add((tool, arguments));
        return Task.FromResult(Answer(tool, arguments));
    }
}
