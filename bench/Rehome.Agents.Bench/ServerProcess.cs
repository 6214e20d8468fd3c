using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Reflection;
using System.Text.Json;

namespace Rehome.Agents.Bench;

/// <summary>
/// A Rehome server in a process of its own (<c>dotnet Rehome.Server.dll</c>, the build of this configuration), so
/// that its memory is its own and two of them are two replicas as a deployment has them. Its output goes to a file.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    public const string AdminPassword = "Bench-Rehome-Passw0rd-2026";

    /// <summary>A SQLite server in <paramref name="root"/> for a fleet of held polls: simulated directories, no enrollment limit, anonymous /metrics.</summary>
    public static Dictionary<string, string> FleetSettings(string root) => new()
    {
        ["Rehome:Store:Provider"] = "Sqlite",
        ["Rehome:Store:DataDirectory"] = Path.Combine(root, "data"),
        ["Rehome:Bootstrap:AdminPassword"] = AdminPassword,
        ["Rehome:Directories:Mode"] = "Simulated",
        ["Rehome:Gateway:EnrollmentsPerMinute"] = "1000000",
        ["Rehome:Metrics:AllowAnonymous"] = "true",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    private readonly Process process;
    private readonly StreamWriter log;

    private ServerProcess(string name, Process process, StreamWriter log, Uri address, string logFile)
    {
        Name = name;
        this.process = process;
        this.log = log;
        Address = address;
        LogFile = logFile;
    }

    public string Name { get; }

    public Uri Address { get; }

    public string LogFile { get; }

    public int Pid => process.Id;

    /// <summary>
    /// The server's build output, next to this project's (src/Rehome.Server/bin/&lt;configuration&gt;), or a copy named by
    /// REHOME_BENCH_SERVER_DLL (a "before" build kept aside while the source changes).
    /// </summary>
    public static string ServerDll { get; } = Environment.GetEnvironmentVariable("REHOME_BENCH_SERVER_DLL") is { Length: > 0 } copy
        ? copy
        : typeof(ServerProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RehomeServerDll").Value!;

    /// <summary>
    /// Starts a server with <paramref name="settings"/> (configuration keys) listening on <paramref name="urls"/>
    /// (null: a free loopback port) and waits until it answers on <c>/healthz</c>.
    /// </summary>
    public static async Task<ServerProcess> StartAsync(string name, string folder, IReadOnlyDictionary<string, string> settings, string? urls = null)
    {
        if (!File.Exists(ServerDll))
        {
            throw new FileNotFoundException($"The server's build output is missing: build src/Rehome.Server in this configuration first ({ServerDll}).");
        }
        System.IO.Directory.CreateDirectory(folder);
        var address = new Uri(urls?.Split(';')[0] ?? $"http://127.0.0.1:{FreePort()}");
        var logFile = Path.Combine(folder, name + ".log");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(ServerDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ServerDll);
        start.ArgumentList.Add($"--urls={urls ?? address.ToString()}");
        foreach (var (key, value) in settings)
        {
            start.ArgumentList.Add($"--{key}={value}");
        }
        var log = new StreamWriter(logFile) { AutoFlush = true };
        var started = new Process { StartInfo = start };
        started.OutputDataReceived += (_, e) => Append(log, e.Data);
        started.ErrorDataReceived += (_, e) => Append(log, e.Data);
        started.Start();
        started.BeginOutputReadLine();
        started.BeginErrorReadLine();
        var server = new ServerProcess(name, started, log, address, logFile);
        try
        {
            await server.WaitUntilHealthyAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private static void Append(StreamWriter log, string? line)
    {
        if (line is not null)
        {
            lock (log)
            {
                log.WriteLine(line);
            }
        }
    }

    private async Task WaitUntilHealthyAsync()
    {
        using var http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{Name} ended at start (exit code {process.ExitCode}); see {LogFile}");
            }
            try
            {
                using var answer = await http.GetAsync(new Uri("/healthz", UriKind.Relative));
                if (answer.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or busy starting.
            }
            if (clock.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new TimeoutException($"{Name} did not answer within 2 minutes; see {LogFile}");
            }
            await Task.Delay(200);
        }
    }

    /// <summary>A personal API token of the bootstrap administrator, got over HTTP with the password.</summary>
    public async Task<string> SignInAsync()
    {
        using var http = new HttpClient { BaseAddress = Address };
        using var answer = await http.PostAsJsonAsync(new Uri("/api/v1/auth/token", UriKind.Relative),
            new { userName = "admin", password = AdminPassword, tokenName = "bench" });
        answer.EnsureSuccessStatusCode();
        return (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    /// <summary>The process's resident memory (VmRSS of /proc/&lt;pid&gt;/status), in bytes.</summary>
    public long ResidentBytes()
    {
        var line = File.ReadLines($"/proc/{Pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>How many files the process has open (sockets included).</summary>
    public int OpenFiles() => System.IO.Directory.GetFiles($"/proc/{Pid}/fd").Length;

    /// <summary>
    /// The server's Prometheus metrics (it must allow anonymous scrapes), each sample summed over the label sets
    /// that match <paramref name="labelFilter"/> (a text the label list must contain; empty: every sample).
    /// </summary>
    public async Task<double> MetricAsync(HttpClient http, string name, string labelFilter = "")
    {
        var text = await http.GetStringAsync(new Uri(Address, "/metrics"));
        var sum = 0.0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name, StringComparison.Ordinal) && line.Length > name.Length && line[name.Length] is '{' or ' ' && line.Contains(labelFilter, StringComparison.Ordinal))
            {
                var value = (line[name.Length] == '{' ? line[(line.LastIndexOf('}') + 1)..] : line[name.Length..]).Trim().Split(' ')[0];
                sum += double.Parse(value, CultureInfo.InvariantCulture);
            }
        }
        return sum;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private bool disposed;

    /// <summary>Stops the server (once: a mode may stop it before its own end, as memory does for its references).</summary>
    public async ValueTask DisposeAsync()
    {
        if (disposed)
        {
            return;
        }
        disposed = true;
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
        lock (log)
        {
            log.Dispose();
        }
    }
}
