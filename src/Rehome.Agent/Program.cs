using Rehome.Agent;
using Rehome.Agent.Platform.Windows;

// Started by the service in a user's session (to lock it, or to have Windows cache a logon): no host, only the exit code.
if (OperatingSystem.IsWindows() && args is [SessionHelper.Switch, .. var helperArguments])
{
    return SessionHelper.Run(helperArguments);
}

// The Rehome agent: a Windows service on Windows, a systemd service elsewhere (simulated devices).
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddWindowsService(o => o.ServiceName = "Rehome Agent");
builder.Services.AddSystemd();
builder.Services.AddOptions<AgentOptions>().Bind(builder.Configuration.GetSection(AgentOptions.Section));
builder.Services.AddHostedService<AgentWorker>();
await builder.Build().RunAsync();
return 0;
