using Rehome.Server.Store;

namespace Rehome.Server.Tests.Infrastructure;

/// <summary>One server on SQLite shared by the tests of a class (they use names of their own, so they don't collide).</summary>
public sealed class SqliteServer : IAsyncLifetime
{
    public ServerHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await ServerHost.StartAsync(StoreProvider.Sqlite);

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

/// <summary>One server on a fresh PostgreSQL database shared by the tests of a class.</summary>
public sealed class PostgresServer : IAsyncLifetime
{
    public ServerHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await ServerHost.StartAsync(StoreProvider.PostgreSql);

    public async Task DisposeAsync() => await Host.DisposeAsync();
}
