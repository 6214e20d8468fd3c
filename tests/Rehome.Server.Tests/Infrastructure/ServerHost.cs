using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Rehome.Server.Hosting;
using Rehome.Server.Store;

namespace Rehome.Server.Tests.Infrastructure;

/// <summary>
/// The real Rehome server on a loopback port, on a throwaway SQLite file or a fresh PostgreSQL database,
/// with a clock the test moves and every log line captured.
/// </summary>
public sealed class ServerHost : IAsyncDisposable
{
    public const string AdminPassword = "Test-Rehome-Passw0rd-2026";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private readonly string _folder;
    private readonly string? _postgresDatabase;

    private ServerHost(WebApplication app, string folder, string? postgresDatabase, FakeTimeProvider time, LogCapture logs, HttpClient anonymous)
    {
        ConnectionString = app.Configuration["Rehome:Store:ConnectionString"];
        App = app;
        _folder = folder;
        _postgresDatabase = postgresDatabase;
        Time = time;
        Logs = logs;
        Anonymous = anonymous;
        Client = new HttpClient { BaseAddress = anonymous.BaseAddress };
    }

    public WebApplication App { get; }

    /// <summary>The store's connection string (PostgreSQL), for a replica started on the same database.</summary>
    public string? ConnectionString { get; }

    /// <summary>The folder of the store (and keys): a server started again on it finds everything.</summary>
    public string Folder => _folder;

    /// <summary>Keeps the store's folder when disposed, for a test that starts the server again on it.</summary>
    public bool KeepFolder { get; set; }

    public FakeTimeProvider Time { get; }

    /// <summary>The server's clock: <see cref="Time"/>, or the real one for a live server.</summary>
    public DateTimeOffset Now => App.Services.GetRequiredService<TimeProvider>().GetUtcNow();

    public LogCapture Logs { get; }

    /// <summary>A client with no credentials.</summary>
    public HttpClient Anonymous { get; }

    /// <summary>A client signed in as the first administrator.</summary>
    public HttpClient Client { get; }

    public Uri BaseAddress => Anonymous.BaseAddress!;

    /// <summary>
    /// Starts a server for API tests: a fake clock that the test moves, and no engine of its own.
    /// <paramref name="services"/> adds or replaces services (an in-memory trace exporter, say).
    /// </summary>
    public static Task<ServerHost> StartAsync(StoreProvider provider, Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null) =>
        StartAsync(provider, settings, realClock: false, folder: null, port: 0, services);

    /// <summary>
    /// Starts a second server (a replica) on this server's PostgreSQL database, with a clock and an engine of its
    /// own like <see cref="StartAsync(StoreProvider, Dictionary{string, string?}?, Action{IServiceCollection}?)"/>. Dispose it before this one,
    /// which drops the database.
    /// </summary>
    public Task<ServerHost> StartReplicaAsync(Dictionary<string, string?>? settings = null) =>
        StartAsync(StoreProvider.PostgreSql, settings, realClock: false, folder: null, port: 0, services: null,
            sharedConnectionString: ConnectionString ?? throw new InvalidOperationException("Replicas share a PostgreSQL database; this server has none."));

    /// <summary>
    /// Starts a server for tests with real agents: the real clock, the engine ticking every 100 ms, the simulated
    /// directory. <paramref name="folder"/> and <paramref name="port"/> let a test start the same server again;
    /// <paramref name="services"/> replaces services (a directory factory pointed at stand-ins, say).
    /// </summary>
    public static Task<ServerHost> StartLiveAsync(
        Dictionary<string, string?>? settings = null, string? folder = null, int port = 0, Action<IServiceCollection>? services = null)
    {
        var live = new Dictionary<string, string?>
        {
            ["Rehome:Runs:Background"] = "true",
            ["Rehome:Runs:TickInterval"] = "00:00:00.100",
            ["Rehome:Directories:Mode"] = "Simulated",
            ["Rehome:Gateway:EnrollmentsPerMinute"] = "10000",
        };
        foreach (var (key, value) in settings ?? [])
        {
            live[key] = value;
        }
        return StartAsync(StoreProvider.Sqlite, live, realClock: true, folder, port, services);
    }

    private static async Task<ServerHost> StartAsync(
        StoreProvider provider, Dictionary<string, string?>? settings, bool realClock, string? folder, int port, Action<IServiceCollection>? services,
        string? sharedConnectionString = null)
    {
        folder ??= Path.Combine(Path.GetTempPath(), "rehome-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(folder);
        string? database = null;
        var args = new List<string>
        {
            $"--urls=http://127.0.0.1:{port}",
            $"--Rehome:Store:Provider={provider}",
            $"--Rehome:Store:DataDirectory={folder}",
            $"--Rehome:Bootstrap:AdminPassword={AdminPassword}",
            // Tests drive the engine's ticks themselves: a fake clock advanced by days would otherwise run
            // one tick per elapsed second.
            "--Rehome:Runs:Background=false",
            "--Rehome:Notifications:Background=false",
            // Suites sign in many times a minute from 127.0.0.1; the rate-limit test sets its own limit.
            "--Rehome:Auth:SignInsPerMinute=1000",
            // No directory unless a test names one: rejoins wait for their destination (live servers simulate one).
            "--Rehome:Directories:Mode=None",
        };
        if (sharedConnectionString is not null)
        {
            args.Add($"--Rehome:Store:ConnectionString={sharedConnectionString}");
        }
        else if (provider == StoreProvider.PostgreSql)
        {
            database = "rehome_test_" + Guid.NewGuid().ToString("N");
            args.Add($"--Rehome:Store:ConnectionString={await CreatePostgresDatabaseAsync(database)}");
        }
        foreach (var (key, value) in settings ?? [])
        {
            args.Add($"--{key}={value}");
        }

        var builder = RehomeServer.CreateBuilder([.. args]);
        services?.Invoke(builder.Services);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 9, 0, 0, TimeSpan.Zero));
        if (!realClock)
        {
            builder.Services.Replace(ServiceDescriptor.Singleton<TimeProvider>(time));
        }
        var logs = new LogCapture();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        var app = await RehomeServer.BuildAsync(builder);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var host = new ServerHost(app, folder, database, time, logs, new HttpClient { BaseAddress = new Uri(address) });
        var token = await host.SignInAsync("admin", AdminPassword);
        host.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return host;
    }

    public async Task<string> SignInAsync(string user, string password)
    {
        var response = await Anonymous.PostAsJsonAsync("/api/v1/auth/token", new { userName = user, password }, Json);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Json);
        return body.GetProperty("token").GetString()!;
    }

    /// <summary>A scope on the server's services, for tests that drive the engine directly.</summary>
    public AsyncServiceScope Scope() => App.Services.CreateAsyncScope();

    private static async Task<string> CreatePostgresDatabaseAsync(string database)
    {
        var admin = Environment.GetEnvironmentVariable("REHOME_TEST_POSTGRES")
            ?? throw new InvalidOperationException(
                "REHOME_TEST_POSTGRES is not set: run the tests with ./test.sh, which starts a throwaway PostgreSQL server.");
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"CREATE DATABASE {database}";
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(admin) { Database = database }.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Anonymous.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        if (_postgresDatabase is not null)
        {
            NpgsqlConnection.ClearAllPools();
            var admin = Environment.GetEnvironmentVariable("REHOME_TEST_POSTGRES")!;
            await using var connection = new NpgsqlConnection(admin);
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"DROP DATABASE IF EXISTS {_postgresDatabase} WITH (FORCE)";
            await command.ExecuteNonQueryAsync();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (KeepFolder)
        {
            return;
        }
        try
        {
            System.IO.Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open is left for the OS to clean up with the temp folder.
        }
    }
}

/// <summary>Keeps every log line the server writes, to check that no secret ever reaches a log.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
    }
}
