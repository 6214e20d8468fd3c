using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Rehome.Server.Replicas;
using Rehome.Server.Runs;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Replicas;

/// <summary>
/// Two servers, A and B, on one PostgreSQL database, each with its own clock (moved together), engine and
/// simulated directory. Their polls' recheck is set to its maximum, so that only a signal wakes a poll.
/// </summary>
public sealed class TwoReplicas : IAsyncLifetime
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Rehome:Directories:Mode"] = "Simulated",
        ["Rehome:Gateway:EnrollmentsPerMinute"] = "10000",
        ["Rehome:Gateway:RecheckInterval"] = "00:10:00",
    };

    public ServerHost A { get; private set; } = null!;

    public ServerHost B { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        A = await ServerHost.StartAsync(StoreProvider.PostgreSql, Settings);
        B = await A.StartReplicaAsync(Settings);
    }

    public async Task DisposeAsync()
    {
        await B.DisposeAsync();
        await A.DisposeAsync();
    }

    /// <summary>Moves both servers' clocks.</summary>
    public void Advance(TimeSpan by)
    {
        A.Time.Advance(by);
        B.Time.Advance(by);
    }

    /// <summary>The device's agent talking to <paramref name="host"/> (a balancer may send it to either).</summary>
    public static HttpClient AgentOn(ServerHost host, EnrolledDevice device)
    {
        var agent = new HttpClient { BaseAddress = host.BaseAddress };
        agent.DefaultRequestHeaders.Authorization = device.Agent.DefaultRequestHeaders.Authorization;
        return agent;
    }

    public static Task<HttpResponseMessage> PollAsync(HttpClient agent, int waitSeconds) =>
        agent.PostAsync(new Uri($"/agent/v1/poll?wait={waitSeconds}", UriKind.Relative), null);

    /// <summary>One tick of the host's engine: scheduled releases, destination preparation, lapsed leases.</summary>
    public static async Task TickAsync(ServerHost host)
    {
        await using var scope = host.Scope();
        await scope.ServiceProvider.GetRequiredService<RunEngineService>().TickAsync(CancellationToken.None);
    }

    /// <summary>Waits until the host listens for the other replicas' signals for at least the <paramref name="times"/>th time.</summary>
    public static async Task<PostgresJobListener> ListeningAsync(ServerHost host, int times = 1)
    {
        var listener = host.App.Services.GetRequiredService<PostgresJobListener>();
        await Until(() => listener.Connections >= times && listener.BackendProcessId is not null, "the listener to listen");
        return listener;
    }

    /// <summary>Ends a backend of the shared cluster, as a failover or an administrator would.</summary>
    public static async Task TerminateBackendAsync(int processId)
    {
        await using var connection = new NpgsqlConnection(Environment.GetEnvironmentVariable("REHOME_TEST_POSTGRES"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_terminate_backend($1)", connection) { Parameters = { new() { Value = processId } } };
        Assert.Equal(true, await command.ExecuteScalarAsync());
    }

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"Timed out waiting for {what}.");
            await Task.Delay(20);
        }
    }
}
