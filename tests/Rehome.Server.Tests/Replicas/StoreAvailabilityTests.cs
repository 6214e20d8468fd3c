using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Rehome.Server.Gateway;
using Rehome.Server.Hosting;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Replicas;

/// <summary>Health, readiness, the migrate command, and what clients get while PostgreSQL is away.</summary>
public sealed class StoreAvailabilityTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task Health_and_readiness_answer_anyone_on_a_migrated_store()
    {
        using var health = await server.Host.Anonymous.GetAsync(new Uri("/healthz", UriKind.Relative));
        using var ready = await server.Host.Anonymous.GetAsync(new Uri("/readyz", UriKind.Relative));

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (health.StatusCode, ready.StatusCode));
    }

    [Fact]
    public async Task A_replica_that_does_not_migrate_is_not_ready_until_the_migrate_command_has_run()
    {
        var connectionString = await CreateDatabaseAsync();
        await using var dropped = new DroppedAtEnd(connectionString);
        await using var replica = await BareServer.StartAsync(connectionString);

        var before = await ProblemAsync(await replica.Http.GetAsync(new Uri("/readyz", UriKind.Relative)), HttpStatusCode.ServiceUnavailable);
        var output = new StringWriter();
        var exit = await StoreStartup.MigrateCommandAsync(BareServer.Settings(connectionString, replica.Folder), output, output);
        using var after = await replica.Http.GetAsync(new Uri("/readyz", UriKind.Relative));
        using var signIn = await replica.Http.PostAsJsonAsync("/api/v1/auth/token", new { userName = "admin", password = ServerHost.AdminPassword });

        Assert.Equal("MigrationsPending", before.GetProperty("rule").GetString());
        Assert.Contains("ReplicaState", before.GetProperty("detail").GetString());
        Assert.True(exit == 0, output.ToString());
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
    }

    [Fact]
    public async Task The_migrate_command_exits_with_1_and_the_reason_when_the_database_cannot_be_reached()
    {
        var error = new StringWriter();

        var exit = await StoreStartup.MigrateCommandAsync(BareServer.Settings(Unreachable(), Path.GetTempPath()), TextWriter.Null, error);

        Assert.Equal(1, exit);
        Assert.StartsWith("rehome-server migrate failed: ", error.ToString());
    }

    [Fact]
    public async Task While_the_database_is_unreachable_the_api_and_the_gateway_answer_503_with_retry_after_and_a_reason()
    {
        await using var replica = await BareServer.StartAsync(Unreachable());
        using var agent = new HttpClient { BaseAddress = replica.Http.BaseAddress };
        agent.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Agent", AgentCredentials.Issue(Guid.NewGuid()).Credential);

        using var health = await replica.Http.GetAsync(new Uri("/healthz", UriKind.Relative));
        var ready = await ProblemAsync(await replica.Http.GetAsync(new Uri("/readyz", UriKind.Relative)), HttpStatusCode.ServiceUnavailable);
        using var signIn = await replica.Http.PostAsJsonAsync("/api/v1/auth/token", new { userName = "admin", password = ServerHost.AdminPassword });
        using var poll = await agent.PostAsync(new Uri("/agent/v1/poll?wait=0", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(("StoreUnreachable", "The database is not reachable."), (ready.GetProperty("rule").GetString(), ready.GetProperty("detail").GetString()));
        foreach (var response in new[] { signIn, poll })
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{response.RequestMessage!.RequestUri} answered {(int)response.StatusCode}: {body}");
            Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = JsonDocument.Parse(body).RootElement;
            Assert.Equal(("StoreUnavailable", "The database is not reachable; try again shortly."),
                (problem.GetProperty("rule").GetString(), problem.GetProperty("detail").GetString()));
            Assert.DoesNotContain("Exception", body, StringComparison.OrdinalIgnoreCase);
        }
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == expected, $"{response.RequestMessage!.RequestUri} answered {(int)response.StatusCode}: {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            return JsonDocument.Parse(body).RootElement;
        }
    }

    /// <summary>A PostgreSQL connection string to a loopback port where nothing listens.</summary>
    private static string Unreachable()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = port, Username = "rehome", Database = "absent", Timeout = 3 }.ToString();
    }

    /// <summary>An empty database of the shared cluster.</summary>
    private static async Task<string> CreateDatabaseAsync()
    {
        var database = "rehome_test_" + Guid.NewGuid().ToString("N");
        await OnClusterAsync($"CREATE DATABASE {database}");
        return new NpgsqlConnectionStringBuilder(Environment.GetEnvironmentVariable("REHOME_TEST_POSTGRES")) { Database = database }.ToString();
    }

    private static async Task OnClusterAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Environment.GetEnvironmentVariable("REHOME_TEST_POSTGRES"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Drops the test's database once the servers on it have stopped (declared before them, so disposed after).</summary>
    private sealed class DroppedAtEnd(string connectionString) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            NpgsqlConnection.ClearAllPools();
            await OnClusterAsync($"DROP DATABASE IF EXISTS {new NpgsqlConnectionStringBuilder(connectionString).Database} WITH (FORCE)");
        }
    }

    /// <summary>A server started as a replica that does not migrate: it starts whatever state the store is in.</summary>
    private sealed class BareServer : IAsyncDisposable
    {
        private BareServer(WebApplication app, string folder)
        {
            App = app;
            Folder = folder;
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            Http = new HttpClient { BaseAddress = new Uri(address) };
        }

        public WebApplication App { get; }

        public string Folder { get; }

        public HttpClient Http { get; }

        public static string[] Settings(string connectionString, string folder) =>
        [
            "--Rehome:Store:Provider=PostgreSql",
            $"--Rehome:Store:ConnectionString={connectionString}",
            $"--Rehome:Store:DataDirectory={folder}",
            $"--Rehome:Bootstrap:AdminPassword={ServerHost.AdminPassword}",
            "--Rehome:Runs:Background=false",
            "--Rehome:Directories:Mode=None",
        ];

        public static async Task<BareServer> StartAsync(string connectionString)
        {
            var folder = Path.Combine(Path.GetTempPath(), "rehome-tests", Guid.NewGuid().ToString("N"));
            System.IO.Directory.CreateDirectory(folder);
            var builder = RehomeServer.CreateBuilder([.. Settings(connectionString, folder), "--urls=http://127.0.0.1:0", "--Rehome:Store:MigrateOnStart=false"]);
            builder.Logging.ClearProviders();
            var app = await RehomeServer.BuildAsync(builder);
            await app.StartAsync();
            return new BareServer(app, folder);
        }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await App.StopAsync();
            await App.DisposeAsync();
            System.IO.Directory.Delete(Folder, recursive: true);
        }
    }
}
