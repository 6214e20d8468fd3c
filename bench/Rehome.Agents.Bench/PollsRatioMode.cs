using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rehome.Cli.Rehearsal;
using Rehome.Core.Runs;
using Rehome.Protocol;

namespace Rehome.Agents.Bench;

/// <summary>
/// polls-ratio: authenticated agent polls per second against the real gateway and against a bare Kestrel endpoint
/// (a minimal API answering 204 once it has checked the Authorization header), both hosted in this process and
/// measured by the same client code in one child process (polls-ratio-client), alternately, in the same run. The
/// polls are <c>wait=0</c>: the gateway's no-work answer (credential from the registry's memory, the mapping's
/// signal generation, no query), not a held poll.
/// </summary>
public static class PollsRatioMode
{
    public static async Task RunAsync(string root, int agents, int seconds)
    {
        var (app, address, api) = await InProcessServer.StartAsync(root, agents);
        var scenario = new RehearsalScenario(api, root, new RehearsalOptions { Devices = agents, Jobs = [JobKind.MigrateEntraIdGroups] });
        await scenario.SetUpAsync(CancellationToken.None);
        await using var bare = await StartBareAsync();
        var bareAddress = bare.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var client = Process.Start(Children.StartInfo(
            "polls-ratio-client", agents.ToString(CultureInfo.InvariantCulture), address.ToString(), bareAddress, scenario.ConfigurationKey, seconds.ToString(CultureInfo.InvariantCulture)))!;
        await client.WaitForExitAsync();
        await bare.StopAsync();
        await app.StopAsync();
        await app.DisposeAsync();
    }

    /// <summary>Kestrel with one route, the gateway's poll path: 204 with an agent credential in the header, 401 without.</summary>
    internal static async Task<WebApplication> StartBareAsync()
    {
        var app = BareBuilder().Build();
        var prefix = AgentProtocol.AuthorizationScheme + " ";
        app.MapPost("/agent/v1/poll", (HttpRequest request) =>
            request.Headers.Authorization is [{ } header] && header.StartsWith(prefix, StringComparison.Ordinal) && header.Length > prefix.Length
                ? Results.NoContent()
                : Results.Unauthorized());
        await app.StartAsync();
        return app;
    }

    /// <summary>Bare Kestrel on a free loopback port, logging nothing: the references' host.</summary>
    internal static WebApplicationBuilder BareBuilder()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        return builder;
    }

    public static async Task ClientAsync(Uri gateway, Uri bare, string configurationKey, int agents, int seconds)
    {
        using var gatewayHttp = Fleet.Client(gateway);
        using var bareHttp = Fleet.Client(bare);
        var credentials = await Fleet.EnrollAsync(gatewayHttp, configurationKey, 0, agents);
        var time = TimeSpan.FromSeconds(seconds);

        // A warm-up of each: every agent's first poll (which looks in the store once), then as long as a round (JIT:
        // on a loaded machine the optimised code comes late). Then two rounds of each in turn, so that a change in
        // the machine's load falls on both.
        foreach (var http in (HttpClient[])[gatewayHttp, bareHttp])
        {
            await Parallel.ForEachAsync(credentials, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (credential, ct) =>
            {
                using var request = Fleet.Poll(http, credential, 0);
                using var response = await http.SendAsync(request, ct);
            });
            await PollsMode.ShortPollsAsync(http, credentials, time);
        }
        var rates = new Dictionary<string, List<double>> { ["gateway"] = [], ["bare Kestrel"] = [] };
        for (var round = 1; round <= 2; round++)
        {
            foreach (var (name, http) in (IEnumerable<(string, HttpClient)>)[("gateway", gatewayHttp), ("bare Kestrel", bareHttp)])
            {
                var (rate, elapsed, failures) = await PollsMode.ShortPollsAsync(http, credentials, time);
                rates[name].Add(rate);
                Console.WriteLine($"  round {round}, {name}: {rate:N0} polls/s over {elapsed.TotalSeconds:F1} s ({failures} failed)");
            }
        }
        var (g, b) = (rates["gateway"].Average(), rates["bare Kestrel"].Average());
        Console.WriteLine($"authenticated polls (wait=0, 64 connections, {agents:N0} agents' credentials in turn): gateway {g:N0}/s, bare Kestrel {b:N0}/s; " +
            $"gateway / bare = {g / b:P0}");
    }
}
