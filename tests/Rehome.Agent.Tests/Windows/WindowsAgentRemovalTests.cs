using System.Runtime.Versioning;
using Rehome.Agent.Platform.Windows.Installation;
using Rehome.Agent.Uninstall;
using Rehome.Protocol;

namespace Rehome.Agent.Tests.Windows;

[SupportedOSPlatform("windows")]
public sealed class WindowsAgentRemovalTests : IDisposable
{
    private const string Deps = """
        {
          "targets": {
            ".NETCoreApp,Version=v10.0/win-x64": {
              "rehome-agent/1.0.0": { "runtime": { "rehome-agent.dll": {} } },
              "Rehome.Core/1.0.0": { "runtime": { "Rehome.Core.dll": {} } },
              "System.Management/10.0.0": {
                "runtime": { "lib/net10.0/System.Management.dll": {} },
                "runtimeTargets": { "runtimes/win/lib/net10.0/System.Management.dll": { "rid": "win", "assetType": "runtime" } }
              },
              "Some.Package/1.0.0": { "resources": { "lib/net10.0/de/Some.Package.resources.dll": { "locale": "de" } } },
              "Evil/1.0.0": { "runtimeTargets": { "../../outside.dll": {} } }
            }
          }
        }
        """;

    private readonly string scratch = Directory.CreateTempSubdirectory("rehome-removal-").FullName;
    private readonly FakeCalls calls = new();
    private readonly RecordingServices services = new();

    public WindowsAgentRemovalTests()
    {
        Directory.CreateDirectory(ScriptFolder);
        foreach (var file in new[]
        {
            "rehome-agent.exe", "rehome-agent.dll", "rehome-agent.pdb", "appsettings.json", "Rehome.Core.dll", "System.Management.dll",
            Path.Combine("runtimes", "win", "lib", "net10.0", "System.Management.dll"), Path.Combine("de", "Some.Package.resources.dll"),
            "other-tool.exe", Path.Combine("notes", "readme.txt"),
        })
        {
            var path = Path.Combine(ProgramFolder, file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, "x");
        }
        File.WriteAllText(Path.Combine(ProgramFolder, "rehome-agent.deps.json"), Deps);
        File.WriteAllText(Path.Combine(scratch, "outside.dll"), "x");
        calls.Executable = Path.Combine(ProgramFolder, "rehome-agent.exe");
    }

    public void Dispose() => Directory.Delete(scratch, recursive: true);

    private string ProgramFolder => Path.Combine(scratch, "Tools");

    private string ScriptFolder => Path.Combine(scratch, "temp");

    private WindowsAgentRemoval Removal(string? runningFolder = null) =>
        new(services, calls, Path.Combine(scratch, "ProgramData", "Rehome"), runningFolder ?? ProgramFolder, ScriptFolder);

    private string Script => File.ReadAllText(Assert.Single(Directory.GetFiles(ScriptFolder)));

    [Fact]
    public void Only_the_agents_own_files_are_removed_from_its_installed_folder_and_the_folder_only_if_emptied()
    {
        var parts = Removal().RemoveSelf();

        Assert.Equal([UninstalledPart.Service, UninstalledPart.Files], parts);
        Assert.Equal(["Delete"], services.Calls.Where(c => c != "Query"));
        Assert.Equal(1, calls.AgentKeyDeletions);
        var script = Script;
        Assert.Contains($"\"{calls.ScriptStarted}\"", Assert.Single(calls.Started), StringComparison.Ordinal);
        foreach (var mine in new[] { "rehome-agent.exe", "rehome-agent.dll", "rehome-agent.deps.json", "rehome-agent.pdb", "Rehome.Core.dll", "appsettings.json",
            Path.Combine("runtimes", "win", "lib", "net10.0", "System.Management.dll"), Path.Combine("de", "Some.Package.resources.dll") })
        {
            Assert.Contains($"del /f /q \"{Path.Combine(ProgramFolder, mine)}\"", script, StringComparison.Ordinal);
        }
        Assert.DoesNotContain("other-tool.exe", script, StringComparison.Ordinal);
        Assert.DoesNotContain("readme.txt", script, StringComparison.Ordinal);
        Assert.DoesNotContain("outside.dll", script, StringComparison.Ordinal);
        Assert.DoesNotContain("rmdir /s", script, StringComparison.Ordinal);
        Assert.Contains($"rmdir \"{ProgramFolder}\"", script, StringComparison.Ordinal);
        Assert.True(script.IndexOf($"rmdir \"{Path.Combine(ProgramFolder, "runtimes", "win", "lib", "net10.0")}\"", StringComparison.Ordinal)
            < script.IndexOf($"rmdir \"{ProgramFolder}\"", StringComparison.Ordinal), "the deepest folders first");
    }

    [Fact]
    public void An_agent_not_running_from_the_services_folder_removes_nothing_there()
    {
        var parts = Removal(runningFolder: Path.Combine(scratch, "Downloads")).RemoveSelf();

        Assert.Equal([UninstalledPart.Service], parts);
        Assert.Empty(calls.Started);
        Assert.Empty(Directory.GetFiles(ScriptFolder));
    }

    [Fact]
    public void Without_the_service_neither_it_nor_files_are_reported()
    {
        services.Installed = false;
        calls.Executable = null;

        var parts = Removal().RemoveSelf();

        Assert.Empty(parts);
        Assert.Empty(calls.Started);
        Assert.DoesNotContain("Delete", services.Calls);
    }

    [Fact]
    public void Files_are_not_reported_when_the_script_did_not_start()
    {
        calls.Starts = false;

        Assert.Equal([UninstalledPart.Service], Removal().RemoveSelf());
    }

    [Fact]
    public void The_device_key_is_reported_only_when_there_was_one()
    {
        calls.HasDeviceKey = false;

        Assert.False(Removal().RemoveDeviceKey());
    }

    [Fact]
    public void The_data_root_is_the_one_given_the_local_uninstall_removes_it_too()
    {
        Assert.Equal(Path.Combine(scratch, "ProgramData", "Rehome"), Removal().DataRoot);
    }

    [Theory]
    [InlineData("\"C:\\Program Files\\Rehome\\Agent\\rehome-agent.exe\"", @"C:\Program Files\Rehome\Agent\rehome-agent.exe")]
    [InlineData("\"C:\\Tools\\rehome-agent.exe\" --flag", @"C:\Tools\rehome-agent.exe")]
    [InlineData(@"C:\Tools\rehome-agent.exe", @"C:\Tools\rehome-agent.exe")]
    public void The_services_program_is_read_from_its_command_line(string commandLine, string program)
    {
        Assert.Equal(program, WindowsAgentRemovalCalls.ProgramOf(commandLine));
    }

    [Fact]
    public void A_percent_sign_in_a_path_is_doubled_so_the_script_does_not_expand_it()
    {
        var script = AgentProgramFiles.Script(Path.Combine(scratch, "100%"), [Path.Combine(scratch, "100%", "rehome-agent.exe")]);

        Assert.Contains($"del /f /q \"{Path.Combine(scratch, "100%%", "rehome-agent.exe")}\"", script, StringComparison.Ordinal);
    }

    private sealed class FakeCalls : IAgentRemovalCalls
    {
        public string? Executable { get; set; }

        public bool HasDeviceKey { get; set; } = true;

        public bool Starts { get; set; } = true;

        public List<string> Started { get; } = [];

        public string? ScriptStarted { get; private set; }

        public int AgentKeyDeletions { get; private set; }

        public bool DeleteDeviceKey() => HasDeviceKey;

        public string? ServiceExecutable(string serviceName) => serviceName == AgentInstaller.ServiceName ? Executable : null;

        public void DeleteAgentKey() => AgentKeyDeletions++;

        public bool StartDetached(string arguments)
        {
            Started.Add(arguments);
            ScriptStarted = arguments.Split('"')[1];
            return Starts;
        }
    }

    private sealed class RecordingServices : IServiceControl
    {
        public bool Installed { get; set; } = true;

        public List<string> Calls { get; } = [];

        public ServiceRunState? Query(string name)
        {
            Calls.Add("Query");
            return Installed ? ServiceRunState.Running : null;
        }

        public IReadOnlyList<string> Create(ServiceDefinition definition) => throw new NotSupportedException();

        public IReadOnlyList<string> Update(ServiceDefinition definition) => throw new NotSupportedException();

        public void Start(string name) => throw new NotSupportedException();

        public void Stop(string name, TimeSpan timeout) => throw new NotSupportedException();

        public void Delete(string name) => Calls.Add("Delete");
    }
}
