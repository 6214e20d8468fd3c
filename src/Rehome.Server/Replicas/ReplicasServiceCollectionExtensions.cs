using Rehome.Server.Api;
using Rehome.Server.Gateway;
using Rehome.Server.Store;

namespace Rehome.Server.Replicas;

public static class ReplicasServiceCollectionExtensions
{
    /// <summary>
    /// What lets several servers share one PostgreSQL: job signals carried between them (LISTEN/NOTIFY), readiness,
    /// and 503 instead of 500 while the store is away. On SQLite (one server) signals stay in the process.
    /// </summary>
    public static IServiceCollection AddRehomeReplicas(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddScoped<StoreReadiness>();
        services.AddExceptionHandler<StoreUnavailableHandler>();
        var options = configuration.GetSection(StoreOptions.Section).Get<StoreOptions>() ?? new StoreOptions();
        if (options.Provider == StoreProvider.PostgreSql)
        {
            services.AddSingleton<PostgresJobNotifier>();
            services.AddSingleton<IJobSignalRelay>(sp => sp.GetRequiredService<PostgresJobNotifier>());
            services.AddSingleton<PostgresJobListener>();
            services.AddHostedService(sp => sp.GetRequiredService<PostgresJobListener>());
        }
        return services;
    }
}
