using Rehome.Server.Hosting;

var builder = RehomeServer.CreateBuilder(args);
var app = await RehomeServer.BuildAsync(builder);
await app.RunAsync();

/// <summary>The server's entry point; public so that tests can host it with WebApplicationFactory.</summary>
public partial class Program;
