using Microsoft.Extensions.Hosting.WindowsServices;
using Microsoft.Extensions.Options;
using Rehome.Agent;
using Rehome.Agent.Platform.Windows;
using Rehome.Agent.Platform.Windows.Installation;

// Started by the service in a user's session (to lock it, or to have Windows cache a logon): no host, only the exit code.
if (OperatingSystem.IsWindows() && args is [SessionHelper.Switch, .. var helperArguments])
{
    return SessionHelper.Run(helperArguments);
}

// Started by the agent to swap in a new version of itself and watch it (it outlives the service it restarts).
if (OperatingSystem.IsWindows() && args is [WindowsAgentInstallation.ApplySwitch, .. var updateArguments])
{
    return WindowsAgentInstallation.Apply(updateArguments);
}

// The agent's own commands (install, uninstall) run and exit; any other arguments are the host's.
if (AgentCommandLine.Parse(args) is { } command)
{
    if (!OperatingSystem.IsWindows())
    {
        Console.Error.WriteLine("install, uninstall and selftest are Windows commands; a simulated agent is configured through appsettings.json or the environment.");
        return 1;
    }

    return AgentCommands.Run(command, Console.Out, Console.Error);
}

// The Rehome agent: a Windows service on Windows, a systemd service elsewhere (simulated devices).
// A service starts in System32: its appsettings.json is the one beside the executable.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    Args = args,
    ContentRootPath = WindowsServiceHelpers.IsWindowsService() ? AppContext.BaseDirectory : null,
});
var startup = AgentStartupCheck.None;
if (OperatingSystem.IsWindows() && !DevicePlatforms.IsSimulated(builder.Configuration[$"{AgentOptions.Section}:Platform"]))
{
    // Before anything is read from %ProgramData%\Rehome: a folder a user could have planted or changed is refused.
    var security = new WindowsFolderSecurity();
    var refusals = new ProtectedFolders(ProtectedFolders.DefaultRoot, security).Check();
    if (refusals.Count == 0)
    {
        // Last, so the protected file the installer wrote wins over appsettings.json and the environment.
        builder.Configuration.AddJsonFile(AgentSettingsFile.DefaultPath, optional: true, reloadOnChange: false);
        if (builder.Configuration[$"{AgentOptions.Section}:StateFolder"] is { } stateFolder)
        {
            // A state folder configured elsewhere must be as protected as the default one.
            refusals = new ProtectedFolders(ProtectedFolders.DefaultRoot, security, [stateFolder]).Check();
        }
    }

    startup = new AgentStartupCheck(refusals, refusals.Count == 0 ? AgentSettingsFile.DefaultPath : null);
}

builder.Services.AddWindowsService(o => o.ServiceName = AgentInstaller.ServiceName);
builder.Services.AddSystemd();
builder.Services.AddSingleton(startup);
builder.Services.AddOptions<AgentOptions>().Bind(builder.Configuration.GetSection(AgentOptions.Section)).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<AgentOptions>, AgentOptionsRules>();
builder.Services.AddHostedService<AgentWorker>();
await builder.Build().RunAsync();
return Environment.ExitCode;
