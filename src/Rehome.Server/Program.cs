using Rehome.Server.Hosting;
using Rehome.Server.Store;

if (args is ["migrate", .. var settings])
{
    return await StoreStartup.MigrateCommandAsync(settings, Console.Out, Console.Error);
}
var builder = RehomeServer.CreateBuilder(args);
var app = await RehomeServer.BuildAsync(builder);
await app.RunAsync();
return 0;

/// <summary>The server's entry point; public so that tests can host it with WebApplicationFactory.</summary>
public partial class Program;
