using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Rehome.Server.Auth;
using Rehome.Server.Hosting;
using Rehome.Server.Store;

/// <summary>
/// The real server a store bench measures, in this process: on SQLite in a temporary folder, or on a new database of
/// the PostgreSQL given; with an HTTP client holding the administrator's API token. Disposing it stops the server and
/// removes its store.
/// </summary>
internal sealed class BenchServer : IAsyncDisposable
{
    private readonly string folder;
    private readonly string? adminConnection;
    private readonly string? database;

    private BenchServer(WebApplication app, HttpClient http, string folder, string? adminConnection, string? database)
    {
        App = app;
        Http = http;
        this.folder = folder;
        this.adminConnection = adminConnection;
        this.database = database;
    }

    public WebApplication App { get; }

    public HttpClient Http { get; }

    /// <param name="provider">The store to measure.</param>
    /// <param name="adminConnection">A PostgreSQL connection that may create databases (null for SQLite).</param>
    /// <param name="databasePrefix">The new PostgreSQL database's name before a random suffix.</param>
    /// <param name="logging">Log levels beyond Warning, e.g. the run engine's timings.</param>
    public static async Task<BenchServer> StartAsync(StoreProvider provider, string? adminConnection, string databasePrefix, Action<ILoggingBuilder> logging)
    {
        var folder = Path.Combine(Path.GetTempPath(), "rehome-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var settings = new List<string>
        {
            "--urls=http://127.0.0.1:0", $"--Rehome:Store:Provider={provider}", $"--Rehome:Store:DataDirectory={folder}",
            "--Rehome:Runs:Background=false", $"--Rehome:Bootstrap:AdminPassword=Bench-{Guid.NewGuid()}",
        };
        string? database = null;
        if (adminConnection is not null)
        {
            database = databasePrefix + Guid.NewGuid().ToString("N");
            await ExecuteAsync(adminConnection, $"CREATE DATABASE {database}");
            settings.Add($"--Rehome:Store:ConnectionString={new NpgsqlConnectionStringBuilder(adminConnection) { Database = database }}");
        }
        var builder = RehomeServer.CreateBuilder([.. settings]);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        logging(builder.Logging);
        var app = await RehomeServer.BuildAsync(builder);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromMinutes(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await IssueTokenAsync(app.Services));
        return new BenchServer(app, http, folder, adminConnection, database);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        if (database is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(adminConnection!, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
        }
        Directory.Delete(folder, recursive: true);
    }

    /// <summary>The 1, 5 and 15 minute load averages: the two cores are shared, so every figure says how busy they were.</summary>
    public static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3]) : "unknown";

    private static async Task<string> IssueTokenAsync(IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var (entity, token) = ApiTokens.Issue((await db.Accounts.OrderBy(a => a.CreatedAt).FirstAsync()).Id, "bench", DateTimeOffset.UtcNow, null);
        db.ApiTokens.Add(entity);
        await db.SaveChangesAsync();
        return token;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
