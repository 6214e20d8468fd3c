using Rehome.Agent;

// The Rehome agent: a Windows service on Windows, a systemd service elsewhere (simulated devices).
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddWindowsService(o => o.ServiceName = "Rehome Agent");
builder.Services.AddSystemd();
builder.Services.AddOptions<AgentOptions>().Bind(builder.Configuration.GetSection(AgentOptions.Section));
builder.Services.AddHostedService<AgentWorker>();
await builder.Build().RunAsync();
