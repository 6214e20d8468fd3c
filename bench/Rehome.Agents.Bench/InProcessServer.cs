using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rehome.Cli.Client;
using Rehome.Cli.Commands;
using Rehome.Server.Hosting;

namespace Rehome.Agents.Bench;

/// <summary>The server hosted in the bench's own process, on SQLite with the simulated directory, on a free loopback port.</summary>
public static class InProcessServer
{
    public static async Task<(WebApplication App, Uri Address, RehomeApiClient Api)> StartAsync(string root, int agents)
    {
        var builder = RehomeServer.CreateBuilder(
        [
            "--urls=http://127.0.0.1:0",
            $"--Rehome:Store:DataDirectory={Path.Combine(root, "data")}",
            "--Rehome:Store:Provider=Sqlite",
            "--Rehome:Directories:Mode=Simulated",
            "--Rehome:Runs:TickInterval=00:00:00.200",
            $"--Rehome:Gateway:EnrollmentsPerMinute={agents * 2}",
            $"--Rehome:Bootstrap:AdminPassword={ServerProcess.AdminPassword}",
        ]);
        builder.Logging.SetMinimumLevel(LogLevel.Error);
        if (Environment.GetEnvironmentVariable("REHOME_BENCH_TRACE") is not null)
        {
            builder.Logging.AddFilter("Rehome.Server.Gateway.LeaseBatcher", LogLevel.Debug);
        }
        var app = await RehomeServer.BuildAsync(builder);
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return (app, address, new RehomeApiClient(address, await DemoCommand.IssueLocalTokenAsync(app, CancellationToken.None)));
    }
}
