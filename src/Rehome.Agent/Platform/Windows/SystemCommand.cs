using System.Diagnostics;
using System.Runtime.Versioning;

namespace Rehome.Agent.Platform.Windows;

/// <summary>Runs a Windows tool (dsregcmd, powershell) without a window and fails with its output when it fails.</summary>
[SupportedOSPlatform("windows")]
internal static class SystemCommand
{
    public static string System32(string program) => Path.Combine(Environment.SystemDirectory, program);

    public static string PowerShell => Path.Combine(Environment.SystemDirectory, "WindowsPowerShell", "v1.0", "powershell.exe");

    /// <summary>Runs <paramref name="program"/> and returns its standard output; throws when it exits with a non-zero code.</summary>
    public static async Task<string> RunAsync(string program, IReadOnlyList<string> arguments, CancellationToken ct)
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

        var standardOutput = await output;
        var standardError = await error;
        if (process.ExitCode != 0)
        {
            var detail = string.IsNullOrWhiteSpace(standardError) ? standardOutput : standardError;
            throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited with code {process.ExitCode}: {detail.Trim()}");
        }

        return standardOutput;
    }
}
