using Rehome.Agent.Platform.Windows;

namespace Rehome.Agent.Tests.Windows;

internal sealed class FakeSettingsTools : ISettingsTools
{
    public List<(SettingsTool Tool, IReadOnlyList<string> Arguments)> Runs { get; } = [];

    public Func<SettingsTool, IReadOnlyList<string>, ToolRun> Answer { get; set; } = (_, _) => new ToolRun(0, "", "");

    public Task<ToolRun> RunAsync(SettingsTool tool, IReadOnlyList<string> arguments, CancellationToken ct)
    {
        Runs.Add((tool, arguments));
        return Task.FromResult(Answer(tool, arguments));
    }
}
