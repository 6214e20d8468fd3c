using System.Diagnostics;
using System.Runtime.Versioning;

namespace Rehome.Agent.Platform.Windows;

/// <summary>Runs a Windows tool (dsregcmd, powershell, schtasks) without a window.</summary>
[SupportedOSPlatform("windows")]
internal static class SystemCommand
{
    public static string System32(string program) => Path.Combine(Environment.SystemDirectory, program);

    public static string PowerShell => Path.Combine(Environment.SystemDirectory, "WindowsPowerShell", "v1.0", "powershell.exe");

    /// <summary>Runs <paramref name="program"/> and returns its standard output; throws when it exits with a non-zero code.</summary>
    public static async Task<string> RunAsync(string program, IReadOnlyList<string> arguments, CancellationToken ct)
    {
        var result = await StartAsync(program, arguments, ct);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited with code {result.ExitCode}: {result.Detail}");
        }

        return result.Output;
    }

    /// <summary>Runs <paramref name="program"/> to its end (killed with its children when <paramref name="ct"/> fires).</summary>
    public static async Task<ToolResult> StartAsync(string program, IReadOnlyList<string> arguments, CancellationToken ct)
    {
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

        return new ToolResult(process.ExitCode, await output, await error);
    }
}
