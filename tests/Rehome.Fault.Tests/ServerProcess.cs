using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Reflection;
using System.Text.Json;

namespace Rehome.Fault.Tests;

/// <summary>
/// One real Rehome server process (<c>dotnet Rehome.Server.dll</c>, the build of this configuration) on a loopback
/// port, its output kept in a file. It can be killed as <c>kill -9</c> would and started again on the same port.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    public const string AdminPassword = "Fault-Rehome-Passw0rd-2026";

    private readonly IReadOnlyDictionary<string, string> settings;
    private Process? process;

    private ServerProcess(string name, int port, string logFile, IReadOnlyDictionary<string, string> settings)
    {
        Name = name;
        Port = port;
        LogFile = logFile;
        this.settings = settings;
    }

    public string Name { get; }

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    /// <summary>Everything the process wrote (every start of it), for the report of a failed test.</summary>
    public string LogFile { get; }

    public bool IsRunning => process is { HasExited: false };

    /// <summary>The server's build output next to this project's: Debug tests run the Debug server.</summary>
    public static string ServerDll { get; } = typeof(ServerProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "RehomeServerDll").Value!;

    /// <summary>Starts a server with <paramref name="settings"/> (configuration keys) and waits until it answers.</summary>
    public static async Task<ServerProcess> StartAsync(string name, string folder, IReadOnlyDictionary<string, string> settings)
    {
        System.IO.Directory.CreateDirectory(folder);
        var server = new ServerProcess(name, FreePort(), Path.Combine(folder, name + ".log"), settings);
        await server.StartAsync();
        return server;
    }

    /// <summary>Starts the process (again, on the same port and settings) and waits until it answers HTTP.</summary>
    public async Task StartAsync()
    {
        if (!File.Exists(ServerDll))
        {
            throw new FileNotFoundException($"The server's build output is missing: build src/Rehome.Server in this configuration first ({ServerDll}).");
        }
        for (var attempt = 1; ; attempt++)
        {
            Launch();
            try
            {
                await WaitUntilAnsweringAsync(TimeSpan.FromSeconds(90));
                return;
            }
            catch (InvalidOperationException) when (attempt < 10 && Tail().Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                // The killed process's port is not free yet.
                await Task.Delay(500);
            }
        }
    }

    private void Launch()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(ServerDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ServerDll);
        start.ArgumentList.Add($"--urls=http://127.0.0.1:{Port}");
        foreach (var (key, value) in settings)
        {
            start.ArgumentList.Add($"--{key}={value}");
        }
        // A server killed mid-run must not be mistaken for a clean stop in its log.
        File.AppendAllText(LogFile, $"==== {DateTimeOffset.UtcNow:O} start of {Name} on port {Port}{Environment.NewLine}");
        var started = new Process { StartInfo = start };
        started.OutputDataReceived += (_, e) => Append(e.Data);
        started.ErrorDataReceived += (_, e) => Append(e.Data);
        started.Start();
        started.BeginOutputReadLine();
        started.BeginErrorReadLine();
        process = started;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (settings)
        {
            File.AppendAllText(LogFile, line + Environment.NewLine);
        }
    }

    private async Task WaitUntilAnsweringAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (process!.HasExited)
            {
                throw new InvalidOperationException($"{Name} ended at start (exit code {process.ExitCode}); its output:{Environment.NewLine}{Tail()}");
            }
            try
            {
                // Any answer will do: the port opens only once the store is migrated and the administrator exists.
                using var answer = await http.GetAsync(new Uri("/api/v1/auth/me", UriKind.Relative));
                return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Busy starting.
            }
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{Name} did not answer within {timeout.TotalSeconds:F0} s; its output:{Environment.NewLine}{Tail()}");
            }
            await Task.Delay(200);
        }
    }

    /// <summary>Ends the process and its children at once, as <c>kill -9</c> does: nothing is flushed or stopped cleanly.</summary>
    public async Task KillAsync()
    {
        if (process is { HasExited: false } running)
        {
            running.Kill(entireProcessTree: true);
            await running.WaitForExitAsync();
        }
        File.AppendAllText(LogFile, $"==== {DateTimeOffset.UtcNow:O} {Name} killed{Environment.NewLine}");
    }

    /// <summary>A personal API token of the bootstrap administrator, got as any client gets one: over HTTP with the password.</summary>
    public async Task<string> SignInAsync()
    {
        using var http = new HttpClient { BaseAddress = BaseAddress };
        using var answer = await http.PostAsJsonAsync(new Uri("/api/v1/auth/token", UriKind.Relative),
            new { userName = "admin", password = AdminPassword, tokenName = "fault tests" });
        answer.EnsureSuccessStatusCode();
        var body = await answer.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("token").GetString()!;
    }

    /// <summary>The last lines of the process's output.</summary>
    public string Tail(int lines = 60)
    {
        lock (settings)
        {
            return File.Exists(LogFile) ? string.Join(Environment.NewLine, File.ReadLines(LogFile).TakeLast(lines)) : "(no output)";
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        process?.Dispose();
    }
}
