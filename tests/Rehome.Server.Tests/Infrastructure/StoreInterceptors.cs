using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Server.Store;

namespace Rehome.Server.Tests.Infrastructure;

public static class StoreInterceptors
{
    /// <summary>
    /// Adds an EF Core interceptor to the store's context for <paramref name="provider"/>: how tests make the store slow,
    /// fail or watch what it is asked.
    /// </summary>
    public static IServiceCollection AddStoreInterceptor(this IServiceCollection services, StoreProvider provider, Func<IServiceProvider, IInterceptor> interceptor) =>
        provider == StoreProvider.Sqlite
            ? services.ConfigureDbContext<SqliteRehomeDbContext>((sp, db) => db.AddInterceptors(interceptor(sp)))
            : services.ConfigureDbContext<PostgresRehomeDbContext>((sp, db) => db.AddInterceptors(interceptor(sp)));
}
