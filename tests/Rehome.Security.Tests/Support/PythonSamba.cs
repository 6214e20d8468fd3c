using System.Diagnostics;

namespace Rehome.Security.Tests.Support;

/// <summary>Runs a script under the system Python, which has Samba's bindings (python3-samba), as a second codec.</summary>
internal static class PythonSamba
{
    public static string Run(string script, string input)
    {
        var start = new ProcessStartInfo("/usr/bin/python3", ["-c", script])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start");
        // Read both outputs while writing the input, or a large exchange fills a pipe and both sides wait.
        var error = process.StandardError.ReadToEndAsync();
        var reading = process.StandardOutput.ReadToEndAsync();
        process.StandardInput.Write(input);
        process.StandardInput.Close();
        var output = reading.Result;
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"python3 failed ({process.ExitCode}): {error.Result}");
        }

        return output;
    }
}
