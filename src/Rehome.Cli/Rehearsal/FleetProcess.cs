using System.Diagnostics;
using System.Text.Json;

namespace Rehome.Cli.Rehearsal;

/// <summary>
/// Simulated devices run by a process of their own (<see cref="FleetHost"/>, this program again), at a lower CPU
/// priority than the server: on a machine shared by the server and thousands of simulated devices, the devices' work
/// then waits for the server's instead of starving it (leases renewed late, jobs leased again). The devices' folders
/// stay readable here; what happened to their agents comes back in <see cref="FleetReport"/>s.
/// </summary>
public sealed class FleetProcess : IAsyncDisposable
{
    /// <summary>The fleet's niceness on Linux: the server (at 0) gets about nine tenths of a core both want.</summary>
    public const int Niceness = 10;

    private readonly Process process;
    private readonly SemaphoreSlim asking = new(1, 1);
    private readonly Task reading;
    private FleetReport latest = new(0, 0);
    private TaskCompletionSource<FleetReport>? pending;
    private TimeSpan lastProcessorTime;

    private FleetProcess(Process process)
    {
        this.process = process;
        reading = Task.Run(ReadAsync);
    }

    /// <summary>Jobs the process's agents have begun (a resumed one counts again), as of its last report.</summary>
    public int JobsStarted => Volatile.Read(ref latest).JobsStarted;

    /// <summary>Agents past their first poll (answered once), as of its last report.</summary>
    public int PolledTwice => Volatile.Read(ref latest).PolledTwice;

    /// <summary>The CPU time the process has used so far; what it used until it ended once it has.</summary>
    public TimeSpan ProcessorTime
    {
        get
        {
            try
            {
                lastProcessorTime = process.HasExited ? lastProcessorTime : process.TotalProcessorTime;
            }
            catch (InvalidOperationException)
            {
                // Ended meanwhile.
            }
            return lastProcessorTime;
        }
    }

    /// <summary>Writes <paramref name="spec"/> next to the fleet and starts its agents in a new process.</summary>
    public static FleetProcess Start(FleetSpec spec, string name = "fleet")
    {
        var specFile = Path.Combine(spec.Root, name + ".json");
        File.WriteAllText(specFile, JsonSerializer.Serialize(spec, FleetHost.Json));
        var self = typeof(FleetProcess).Assembly.Location;
        var nice = OperatingSystem.IsLinux() && File.Exists("/usr/bin/nice");
        var start = new ProcessStartInfo(nice ? "/usr/bin/nice" : "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        // Thousands of devices in one process allocate ~40 MB/s: with the default gen0 budget that was 10-18 collections
        // a second, each stopping every device in the process (and stretched by its lower priority), so answers waited
        // 25-35 s to be read and polls timed out. 64 MB makes it about one a second. One set by the caller stays.
        if (Environment.GetEnvironmentVariable("DOTNET_GCgen0size") is null)
        {
            start.Environment["DOTNET_GCgen0size"] = "0x4000000";
        }
        if (nice)
        {
            // nice runs dotnet in its own place: the process started is the fleet's.
            foreach (var argument in (string[])["-n", Niceness.ToString(System.Globalization.CultureInfo.InvariantCulture), "dotnet"])
            {
                start.ArgumentList.Add(argument);
            }
        }
        start.ArgumentList.Add(self);
        start.ArgumentList.Add(FleetHost.Verb);
        start.ArgumentList.Add(specFile);
        var process = Process.Start(start) ?? throw new InvalidOperationException("The fleet's process did not start.");
        return new FleetProcess(process);
    }

    /// <summary>Every device as the process sees it now.</summary>
    public Task<FleetReport> SnapshotAsync(CancellationToken ct = default) => AskAsync("snapshot", ct);

    /// <summary>
    /// Stops every agent (as a power-off would) and returns the last report, with every device; the last one heard
    /// when the process had already ended (stopped by Ctrl+C with its parent, or failed).
    /// </summary>
    public async Task<FleetReport> StopAsync(CancellationToken ct = default)
    {
        try
        {
            var last = await AskAsync("stop", ct);
            await process.WaitForExitAsync(ct);
            return last;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException)
        {
            return Volatile.Read(ref latest);
        }
    }

    /// <summary>Sends <paramref name="command"/> and waits for the report with every device that answers it.</summary>
    private async Task<FleetReport> AskAsync(string command, CancellationToken ct)
    {
        await asking.WaitAsync(ct);
        try
        {
            var answer = new TaskCompletionSource<FleetReport>(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref pending, answer);
            ThrowIfEnded();
            await process.StandardInput.WriteLineAsync(command.AsMemory(), ct);
            await process.StandardInput.FlushAsync(ct);
            return await answer.Task.WaitAsync(ct);
        }
        finally
        {
            asking.Release();
        }
    }

    private void ThrowIfEnded()
    {
        if (reading.IsCompleted)
        {
            throw new InvalidOperationException($"The fleet's process ended (exit code {process.ExitCode}).");
        }
    }

    private async Task ReadAsync()
    {
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith('{'))
            {
                continue;
            }
            var report = JsonSerializer.Deserialize<FleetReport>(line, FleetHost.Json)!;
            Volatile.Write(ref latest, report);
            if (report.Devices is not null)
            {
                Interlocked.Exchange(ref pending, null)?.TrySetResult(report);
            }
        }
        Interlocked.Exchange(ref pending, null)?.TrySetException(
            new InvalidOperationException($"The fleet's process ended (exit code {(process.HasExited ? process.ExitCode : -1)}) without answering."));
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        await reading;
        process.Dispose();
        asking.Dispose();
    }
}
