using System.Runtime.Versioning;

namespace Rehome.Agent.Platform.Windows;

/// <summary>The Windows tools the device settings run (each by its full path in System32).</summary>
internal enum SettingsTool
{
    Dism,
    ManageBde,
    PowerShell,
}

/// <summary>The native seam of <see cref="WindowsDeviceSettings"/>' tools: starts one without a window and waits for its end.</summary>
internal interface ISettingsTools
{
    Task<ToolResult> RunAsync(SettingsTool tool, IReadOnlyList<string> arguments, CancellationToken ct);
}

[SupportedOSPlatform("windows")]
internal sealed class NativeSettingsTools : ISettingsTools
{
    public Task<ToolResult> RunAsync(SettingsTool tool, IReadOnlyList<string> arguments, CancellationToken ct)
    {
        var program = tool switch
        {
            SettingsTool.Dism => SystemCommand.System32("dism.exe"),
            SettingsTool.ManageBde => SystemCommand.System32("manage-bde.exe"),
            _ => SystemCommand.PowerShell,
        };
        // What the tool wrote is untrusted and may be localised: the settings parse it defensively.
        return SystemCommand.StartAsync(program, arguments, ct);
    }
}
