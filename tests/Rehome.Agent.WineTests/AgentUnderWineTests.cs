using System.Diagnostics;
using System.Text.Json;

namespace Rehome.Agent.WineTests;

/// <summary>
/// The self-contained win-x64 agent (published by test.sh) under Wine, in a throwaway prefix: its Windows code really
/// runs (registry, DPAPI, privileges, descriptors, the service control manager ...), so a misspelled entry point, a
/// marshalling crash or a Windows-only path that throws fails here. A smoke test, not proof (docs/windows.md).
/// </summary>
public sealed class AgentUnderWineTests(WinePrefix wine) : IClassFixture<WinePrefix>
{
    private static readonly string AllowList = Path.Combine(AppContext.BaseDirectory, "wine-allowlist.txt");

    [Fact]
    public async Task Every_selftest_probe_passes_under_wine_except_those_the_allow_list_names_with_a_reason()
    {
        var allowed = File.ReadAllLines(AllowList).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split([' ', '\t'], 2)[0]).ToHashSet(StringComparer.Ordinal);

        var run = await wine.RunAgentAsync("selftest", "--allow-list", WinePrefix.WindowsPath(AllowList));

        var probes = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => line.StartsWith('{'))
            .Select(line => JsonSerializer.Deserialize<ProbeLine>(line, JsonSerializerOptions.Web)!)
            .ToList();
        var failed = probes.Where(p => p.Outcome == "failed").Select(p => $"{p.Probe}: {p.Detail}").ToList();
        Assert.True(failed.Count == 0, "Probes failed under Wine (fix them, or name them in wine-allowlist.txt with the reason):\n" + string.Join('\n', failed));
        Assert.Equal(0, run.ExitCode);
        Assert.True(probes.Count >= 26, $"Only {probes.Count} probes ran:\n{run.Output}\n{run.Error}");
        var passing = probes.Where(p => p.Outcome == "ok" && allowed.Contains(p.Probe)).Select(p => p.Probe).ToList();
        Assert.True(passing.Count == 0, "These probes now pass under Wine; remove them from wine-allowlist.txt: " + string.Join(", ", passing));
        var unknown = allowed.Except(probes.Select(p => p.Probe)).ToList();
        Assert.True(unknown.Count == 0, "wine-allowlist.txt names probes that do not exist: " + string.Join(", ", unknown));
    }

    [Fact]
    public async Task Install_creates_the_folders_and_settings_and_registers_the_service_and_uninstall_removes_them()
    {
        const string key = "wine-test-configuration-key";
        var install = await wine.RunAgentAsync("install", "--server-url", "http://127.0.0.1:9", "--configuration-key", key, "--poll-seconds", "5");

        Assert.True(install.ExitCode == 0, install.Output + install.Error);
        Assert.Contains("Service RehomeAgent created.", install.Output, StringComparison.Ordinal);
        Assert.Contains("Service RehomeAgent started.", install.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(key, install.Output + install.Error, StringComparison.Ordinal);
        var root = Path.Combine(wine.Prefix, "drive_c", "ProgramData", "Rehome");
        Assert.All(["Agent", "staging", "logs"], folder => Assert.True(Directory.Exists(Path.Combine(root, folder)), folder));
        using (var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "agent.json"))))
        {
            var agent = settings.RootElement.GetProperty("Rehome").GetProperty("Agent");
            Assert.Equal(("http://127.0.0.1:9", key, 5), (agent.GetProperty("ServerUrl").GetString(), agent.GetProperty("ConfigurationKey").GetString(), agent.GetProperty("PollSeconds").GetInt32()));
        }

        var query = await wine.RunAsync("sc", "query", "RehomeAgent");
        Assert.True(query.ExitCode == 0 && query.Output.Contains("RehomeAgent", StringComparison.Ordinal), query.Output + query.Error);

        // Wine saves no file ACL (the folders are owned by the Wine user, S-1-5-21-0-0-0-1000), so both checks must
        // refuse, naming the folder: the agent's start check before it reads anything, and a second install. On
        // Windows a second install updates the service (unit-tested through the seam; the selftest updates a service).
        var agentRun = await wine.RunAgentAsync();
        Assert.Equal(1, agentRun.ExitCode);
        Assert.Contains(@"Refusing to run: C:\ProgramData\Rehome is owned by", agentRun.Output, StringComparison.Ordinal);
        var again = await wine.RunAgentAsync("install", "--server-url", "http://127.0.0.1:9", "--configuration-key", key);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains(@"C:\ProgramData\Rehome: is owned by", again.Error, StringComparison.Ordinal);

        var uninstall = await wine.RunAgentAsync("uninstall");
        Assert.True(uninstall.ExitCode == 0, uninstall.Output + uninstall.Error);
        Assert.False(Directory.Exists(root));
        var gone = await wine.RunAsync("sc", "query", "RehomeAgent");
        Assert.NotEqual(0, gone.ExitCode);
    }

    private sealed record ProbeLine(string Probe, string Outcome, string Detail);
}

/// <summary>A throwaway WINEPREFIX under the test run, removed with its wineserver at the end.</summary>
public sealed class WinePrefix : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    public WinePrefix()
    {
        Wine = Require("REHOME_WINE", "scripts/setup/50-wine.sh installs Wine");
        var published = Require("REHOME_AGENT_WIN_X64", "test.sh publishes the self-contained win-x64 agent");
        Agent = Path.Combine(published, "rehome-agent.exe");
        var run = Environment.GetEnvironmentVariable("REHOME_TEST_RUN") is { Length: > 0 } folder ? folder : Path.GetTempPath();
        Prefix = Path.Combine(run, "wine-" + Guid.NewGuid().ToString("N")[..8]);
    }

    public string Wine { get; }

    public string Agent { get; }

    public string Prefix { get; }

    /// <summary>Z: is the Unix root in every prefix.</summary>
    public static string WindowsPath(string unixPath) => "Z:" + unixPath.Replace('/', '\\');

    public Task<(int ExitCode, string Output, string Error)> RunAgentAsync(params string[] arguments) => RunAsync(Agent, arguments);

    public async Task<(int ExitCode, string Output, string Error)> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(Wine) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(program);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["WINEPREFIX"] = Prefix;
        start.Environment["WINEDEBUG"] = "-all";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"wine {program} {string.Join(' ', arguments)} did not end within {Timeout.TotalSeconds} s.");
        }

        return (process.ExitCode, await output, await error);
    }

    public void Dispose()
    {
        if (!Directory.Exists(Prefix))
        {
            return;
        }

        // This prefix's wineserver (and any Wine service it still runs) ends before its folder goes.
        var stop = new ProcessStartInfo("wineserver", "-k") { UseShellExecute = false };
        stop.Environment["WINEPREFIX"] = Prefix;
        using (var process = Process.Start(stop))
        {
            process?.WaitForExit(TimeSpan.FromSeconds(30));
        }

        Directory.Delete(Prefix, recursive: true);
    }

    private static string Require(string name, string why) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
        ? value
        : throw new InvalidOperationException($"{name} is not set: run the tests through ./test.sh ({why}).");
}
