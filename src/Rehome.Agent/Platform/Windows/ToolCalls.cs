using System.Diagnostics;
using System.Runtime.Versioning;

namespace Rehome.Agent.Platform.Windows;

/// <summary>How a tool ended; what it wrote is untrusted and may be localised.</summary>
internal sealed record ToolRun(int ExitCode, string Output, string Error);

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
    Task<ToolRun> RunAsync(SettingsTool tool, IReadOnlyList<string> arguments, CancellationToken ct);
}

[SupportedOSPlatform("windows")]
internal sealed class NativeSettingsTools : ISettingsTools
{
    public async Task<ToolRun> RunAsync(SettingsTool tool, IReadOnlyList<string> arguments, CancellationToken ct)
    {
        var program = tool switch
        {
            SettingsTool.Dism => SystemCommand.System32("dism.exe"),
            SettingsTool.ManageBde => SystemCommand.System32("manage-bde.exe"),
            _ => SystemCommand.PowerShell,
        };
        var start = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            CreateNoWindow = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Cannot start {program}.");
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        try
        {
            await process.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new ToolRun(process.ExitCode, await output, await error);
    }
}
