using System.Data.Common;
using System.Net;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Server.Gateway;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Gateway;

/// <summary>
/// After a start the server remembers no agent, and every agent's first poll reads it from the store: once. The
/// gateway's policy evaluator awaits the lookup it started rather than handing the request to the framework's handler,
/// which started a second one (two lane turns and two queries a device, 10,000 at once after a restart). On SQLite and
/// PostgreSQL.
/// </summary>
public abstract class FirstPollLookupSuite(StoreProvider provider) : IAsyncLifetime
{
    private readonly AgentLookups lookups = new();
    private ServerHost host = null!;

    public async Task InitializeAsync() => host = await ServerHost.StartAsync(provider, SimulatedDirectoryServer.Settings(),
        services => services.AddStoreInterceptor(provider, _ => lookups));

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task An_agent_the_server_does_not_remember_is_read_from_the_store_once_by_its_first_poll()
    {
        using var device = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"), source: new { domainDnsName = "contoso.example" });
        // As after a start: the server's memory of agents is empty (what a replica does after a gap in its news).
        host.App.Services.GetRequiredService<AgentRegistry>().ForgetAllHere();

        lookups.Arm();
        using (var first = await device.Agent.PostAsync(new Uri("/agent/v1/poll?wait=0", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        }
        var afterFirst = lookups.Count;
        using (var next = await device.Agent.PostAsync(new Uri("/agent/v1/poll?wait=0", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.NoContent, next.StatusCode);
        }

        Assert.Equal(1, afterFirst);
        Assert.Equal(1, lookups.Count);
    }

    /// <summary>
    /// Counts the queries that read one agent by its id, once armed. The store is slow to answer the first (as under a
    /// restart's load, where the lookup cannot finish before the request goes on): it waits until a second lookup has
    /// begun, or two seconds; a store that answers at once would hide a second lookup started only when the first is
    /// still under way.
    /// </summary>
    private sealed class AgentLookups : DbCommandInterceptor
    {
        private readonly TaskCompletionSource second = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool armed;
        private int count;

        public int Count => Volatile.Read(ref count);

        public void Arm() => armed = true;

        public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            if (!armed || !IsAgentLookup(command.CommandText))
            {
                return result;
            }
            var seen = Interlocked.Increment(ref count);
            if (seen == 1)
            {
                await Task.WhenAny(second.Task, Task.Delay(TimeSpan.FromSeconds(2), cancellationToken));
            }
            else
            {
                second.TrySetResult();
            }
            return result;
        }

        /// <summary>The registry's read of one agent (<c>FirstOrDefault(a => a.Id == id)</c>), as EF writes it for either store.</summary>
        private static bool IsAgentLookup(string sql) =>
            sql.Contains("FROM agents AS a", StringComparison.Ordinal) || sql.Contains("FROM \"agents\" AS \"a\"", StringComparison.Ordinal);
    }
}

public sealed class FirstPollLookupOnSqlite() : FirstPollLookupSuite(StoreProvider.Sqlite);

public sealed class FirstPollLookupOnPostgres() : FirstPollLookupSuite(StoreProvider.PostgreSql);
