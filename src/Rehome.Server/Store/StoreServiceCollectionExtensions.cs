using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Rehome.Server.Hosting;

namespace Rehome.Server.Store;

public static class StoreServiceCollectionExtensions
{
    /// <summary>Registers <see cref="RehomeDbContext"/> on the provider that <see cref="StoreOptions"/> names.</summary>
    public static IServiceCollection AddRehomeStore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<StoreOptions>(configuration, StoreOptions.Section)
            .Validate(o => o.Provider != StoreProvider.PostgreSql || !string.IsNullOrWhiteSpace(o.ConnectionString),
                "Rehome:Store:ConnectionString is required when the provider is PostgreSql.");

        var options = configuration.GetSection(StoreOptions.Section).Get<StoreOptions>() ?? new StoreOptions();
        services.AddSingleton(new SqlDialect(options.Provider));
        if (options.Provider == StoreProvider.PostgreSql)
        {
            AddPooledStore<PostgresRehomeDbContext>(services, (sp, db) =>
                db.UseNpgsql(sp.GetRequiredService<IOptions<StoreOptions>>().Value.ConnectionString));
        }
        else
        {
#pragma warning disable EF1001 // The provider's connection service, replaced by one that queues writers (SqliteWriteGate).
            AddPooledStore<SqliteRehomeDbContext>(services, (sp, db) =>
                db.UseSqlite(SqliteConnectionString(sp.GetRequiredService<IOptions<StoreOptions>>().Value))
                  .AddInterceptors(SqlitePragmas.Instance)
                  .ReplaceService<Microsoft.EntityFrameworkCore.Sqlite.Storage.Internal.ISqliteRelationalConnection, GatedSqliteRelationalConnection>());
#pragma warning restore EF1001
        }
        return services;
    }

    /// <summary>
    /// The store's context, pooled: a context (its options, its internal services) is made once and reset between
    /// scopes instead of built for each; at thousands of agent calls a second, that building was about a tenth of the
    /// server's CPU. The scope's context is taken from EF's own scoped lease (returned to the pool with the scope), and
    /// comes without the project limits of the scope that used it last (<see cref="RehomeDbContext.WithoutLimits"/>).
    /// </summary>
    private static void AddPooledStore<TContext>(IServiceCollection services, Action<IServiceProvider, DbContextOptionsBuilder> configure)
        where TContext : RehomeDbContext
    {
        services.AddDbContextPool<TContext>(configure);
#pragma warning disable EF1001 // EF's scoped lease, as its own registration of the context uses it.
        services.Replace(ServiceDescriptor.Scoped(sp => (TContext)sp.GetRequiredService<Microsoft.EntityFrameworkCore.Internal.IScopedDbContextLease<TContext>>().Context.WithoutLimits()));
#pragma warning restore EF1001
        services.AddScoped<RehomeDbContext>(sp => sp.GetRequiredService<TContext>());
    }

    /// <summary>The SQLite connection string: the configured one, or <c>rehome.db</c> in the data folder.</summary>
    public static string SqliteConnectionString(StoreOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            // The store's deletes rely on foreign keys, switched on once per native connection (SqlitePragmas): a
            // configured "Foreign Keys=False" would switch them off again at every open of a pooled connection.
            var configured = new SqliteConnectionStringBuilder(options.ConnectionString);
            if (configured.ForeignKeys == false)
            {
                configured.ForeignKeys = null;
                return configured.ToString();
            }
            return options.ConnectionString;
        }
        return new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(options.DataDirectory, "rehome.db"),
            Pooling = true,
            DefaultTimeout = 60,
        }.ToString();
    }

    /// <summary>
    /// Creates or upgrades the schema; on SQLite first makes its folder and file the server's alone (see
    /// <see cref="DataFolder"/>), and switches the file to write-ahead logging.
    /// </summary>
    public static async Task MigrateStoreAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var options = services.GetRequiredService<IOptions<StoreOptions>>().Value;
        if (options.Provider == StoreProvider.Sqlite && DataFolder.Secure(SqliteConnectionString(options)) is { } warning)
        {
            services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DataFolder)).LogWarning("{Warning}", warning);
        }
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        if (db.Provider == StoreProvider.Sqlite)
        {
            // WAL lets the console and API read while the run engine writes; the mode is kept in the file.
            await db.Database.OpenConnectionAsync(cancellationToken);
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }
        await CreateMigrationHistoryAsync(db, cancellationToken);
        await db.Database.MigrateAsync(cancellationToken);
        if (db.Provider == StoreProvider.Sqlite && db.Database.GetDbConnection() is SqliteConnection connection)
        {
            // SQLite reads the planner's statistics (sqlite_stat1) with the schema, once per connection, and a migration
            // may write them (MappingSearchSchema) without the connections that stay in the pool reading them again: a
            // pooled connection without them planned a search that found 100 rows as a walk over the whole project
            // (1.2 s at 1,000,000 mappings instead of milliseconds). Every connection made from now on reads them.
            await db.Database.CloseConnectionAsync();
            SqliteConnection.ClearPool(connection);
        }
    }

    /// <summary>
    /// On a new PostgreSQL database EF Core reads its migration history before creating it and logs the expected
    /// miss as a failed command (npgsql/efcore.pg#3407): a 'fail:' line with no fault behind it. The history table
    /// is made first so that no such line is written.
    /// </summary>
    private static async Task CreateMigrationHistoryAsync(RehomeDbContext db, CancellationToken ct)
    {
        try
        {
            await db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(ct);
        }
        catch (DbException) when (!ct.IsCancellationRequested)
        {
            // Another replica made it at the same moment; the migration goes on under EF's own lock.
        }
    }
}

/// <summary>
/// Per-connection SQLite settings: WAL makes NORMAL sync safe; writers wait rather than fail when busy; a
/// 64 MiB page cache keeps the job indexes in memory while a run writes hundreds of thousands of rows.
/// </summary>
internal sealed class SqlitePragmas : DbConnectionInterceptor
{
    public static readonly SqlitePragmas Instance = new();

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    /// <summary>The native connections already set: a pooled connection keeps its settings, so each is set once, not at every open.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<object, object> Applied = [];

    private static void Apply(DbConnection connection)
    {
        var handle = (connection as SqliteConnection)?.Handle;
        if (handle is not null && Applied.TryGetValue(handle, out _))
        {
            return;
        }
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=60000; PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;";
        command.ExecuteNonQuery();
        // Marked only once set: a handle whose settings failed is set again at its next open.
        if (handle is not null)
        {
            Applied.AddOrUpdate(handle, handle);
        }
    }
}
