using System.ComponentModel;
using Rehome.Agent.Platform.Windows.Installation;

namespace Rehome.Agent.Tests.Windows;

public sealed class AgentInstallerTests : IDisposable
{
    private const string Executable = @"C:\Program Files\Rehome\Agent\rehome-agent.exe";
    private static readonly InstallArguments Arguments = new("https://rehome.example.test", "key-123", 20, DelayedAutoStart: false);

    private readonly string scratch = Directory.CreateTempSubdirectory("rehome-installer-").FullName;
    private readonly FakeFolderSecurity folders = new();
    private readonly FakeServiceControl services = new();
    private readonly List<string> removed = [];
    private bool elevated = true;

    public void Dispose() => Directory.Delete(scratch, recursive: true);

    private string Root => Path.Combine(scratch, "Rehome");

    private AgentSettingsFile Settings => new(Path.Combine(scratch, "agent.json"));

    private AgentInstaller Installer() => new(services, new ProtectedFolders(Root, folders), Settings, () => elevated, removed.Add);

    [Fact]
    public void A_first_install_creates_the_protected_folders_writes_the_settings_registers_the_service_and_starts_it()
    {
        var result = Installer().Install(Arguments, Executable);

        Assert.True(result.Ok, string.Join('\n', result.Messages));
        Assert.Equal(4, folders.Created.Count);
        Assert.Equal(new AgentSettings("https://rehome.example.test", "key-123", 20), Settings.Read());
        Assert.Equal(["Query", "Create", "Start"], services.Calls);
        var service = services.Definition!;
        Assert.Equal(("RehomeAgent", "Rehome Agent", "\"" + Executable + "\""), (service.Name, service.DisplayName, service.CommandLine));
        Assert.Equal([TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60)], service.RestartDelays);
        Assert.Equal(TimeSpan.FromDays(1), service.ResetPeriod);
        Assert.False(string.IsNullOrWhiteSpace(service.Description));
    }

    [Fact]
    public void Installing_again_gives_the_same_result_and_restarts_the_running_service_with_the_new_settings()
    {
        Installer().Install(Arguments, Executable);
        var firstDefinition = services.Definition;
        var firstSettings = File.ReadAllText(Settings.FilePath);
        services.Calls.Clear();
        folders.Created.Clear();

        var result = Installer().Install(Arguments, Executable);

        Assert.True(result.Ok);
        Assert.Empty(folders.Created);
        Assert.Empty(folders.Applied);
        Assert.Equal(firstSettings, File.ReadAllText(Settings.FilePath));
        Assert.Equal(["Query", "Stop", "Update", "Start"], services.Calls);
        Assert.Equal(firstDefinition! with { RestartDelays = [] }, services.Definition! with { RestartDelays = [] });
        Assert.Equal(firstDefinition.RestartDelays, services.Definition.RestartDelays);
    }

    [Fact]
    public void A_stopped_service_is_updated_and_started_without_a_stop()
    {
        Installer().Install(Arguments, Executable);
        services.State = ServiceRunState.Stopped;
        services.Calls.Clear();

        Installer().Install(Arguments with { DelayedAutoStart = true }, Executable);

        Assert.Equal(["Query", "Update", "Start"], services.Calls);
        Assert.True(services.Definition!.DelayedAutoStart);
    }

    [Fact]
    public void Without_elevation_nothing_is_changed()
    {
        elevated = false;

        var result = Installer().Install(Arguments, Executable);

        Assert.Equal(InstallResult.Refused, result.ExitCode);
        Assert.Empty(folders.Created);
        Assert.Empty(services.Calls);
        Assert.False(File.Exists(Settings.FilePath));
    }

    [Fact]
    public void A_folder_a_user_planted_stops_the_install_before_the_settings_and_the_service()
    {
        folders.Folder(Root, ProtectedFolders.Sddl);
        folders.Folder(Path.Combine(Root, "staging"), "O:S-1-5-21-1-2-3-1001D:(A;OICI;FA;;;WD)");

        var result = Installer().Install(Arguments, Executable);

        Assert.Equal(InstallResult.UntrustedFolder, result.ExitCode);
        Assert.Contains(result.Messages, m => m.Contains("staging", StringComparison.Ordinal));
        Assert.False(File.Exists(Settings.FilePath));
        Assert.Empty(services.Calls);
    }

    [Fact]
    public void A_refusal_of_the_service_control_manager_is_a_failure_that_names_the_call()
    {
        services.Failure = new Win32Exception(5, "CreateService(RehomeAgent) failed with error 5: Access is denied.");

        var result = Installer().Install(Arguments, Executable);

        Assert.Equal(InstallResult.ServiceFailed, result.ExitCode);
        Assert.Contains(result.Messages, m => m.Contains("CreateService", StringComparison.Ordinal));
    }

    [Fact]
    public void No_message_of_the_installer_shows_the_configuration_key()
    {
        var result = Installer().Install(Arguments, Executable);

        Assert.DoesNotContain(result.Messages, m => m.Contains(Arguments.ConfigurationKey, StringComparison.Ordinal));
    }

    [Fact]
    public void Uninstall_stops_and_deletes_the_service_and_removes_the_data()
    {
        Installer().Install(Arguments, Executable);
        services.Calls.Clear();

        var result = Installer().Uninstall(keepData: false);

        Assert.True(result.Ok);
        Assert.Equal(["Query", "Stop", "Delete"], services.Calls);
        Assert.Equal([Root], removed);
    }

    [Fact]
    public void Uninstall_with_keep_data_leaves_the_folder()
    {
        Installer().Install(Arguments, Executable);

        Installer().Uninstall(keepData: true);

        Assert.Empty(removed);
    }

    [Fact]
    public void Uninstall_when_no_service_is_installed_still_removes_the_data()
    {
        var result = Installer().Uninstall(keepData: false);

        Assert.True(result.Ok);
        Assert.Equal(["Query"], services.Calls);
        Assert.Equal([Root], removed);
    }

    /// <summary>One service, its state and definition, and the calls in order.</summary>
    private sealed class FakeServiceControl : IServiceControl
    {
        public List<string> Calls { get; } = [];

        public ServiceRunState? State { get; set; }

        public ServiceDefinition? Definition { get; private set; }

        public Exception? Failure { get; set; }

        public ServiceRunState? Query(string name)
        {
            Calls.Add("Query");
            return State;
        }

        public IReadOnlyList<string> Create(ServiceDefinition definition)
        {
            Calls.Add("Create");
            if (Failure is not null)
            {
                throw Failure;
            }

            (Definition, State) = (definition, ServiceRunState.Stopped);
            return [];
        }

        public IReadOnlyList<string> Update(ServiceDefinition definition)
        {
            Calls.Add("Update");
            Definition = definition;
            return [];
        }

        public void Start(string name)
        {
            Calls.Add("Start");
            State = ServiceRunState.Running;
        }

        public void Stop(string name, TimeSpan timeout)
        {
            Calls.Add("Stop");
            State = ServiceRunState.Stopped;
        }

        public void Delete(string name)
        {
            Calls.Add("Delete");
            State = null;
        }
    }
}
