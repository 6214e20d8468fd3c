using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Core.Agents;
using Rehome.Server.Console;
using Rehome.Server.Mappings;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Console;

/// <summary>The console grid's window (rows, their agents and latest runs in one query) and its reused totals; on SQLite and PostgreSQL.</summary>
public abstract class MappingGridSuite(ServerHost host)
{
    private HttpClient Client => host.Client;

    [Fact]
    public async Task A_window_holds_its_rows_in_the_sort_order_with_each_rows_agent_state_and_latest_run()
    {
        var project = await Client.CreateProjectAsync(sourceEntraId: true);
        var ids = await Client.ImportDevicesAsync(project, "GRD-", 6);
        await Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "MigrateEntraIdGroups" }, mappingIds = ids[..2] });
        var source = (await Client.GetJsonAsync($"/api/v1/projects/{project}")).GetProperty("sourceConnectionId").GetGuid();
        var now = host.Now;
        await using (var scope = host.Scope())
        {
            // Mapping 3: an agent seen now; 4: one silent for a day; 5: a revoked one; 6: an agent no longer stored; 1, 2: none.
            var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
            var online = Agent(source, "GRD-0003", now);
            var offline = Agent(source, "GRD-0004", now.AddDays(-1));
            var revoked = Agent(source, "GRD-0005", now);
            revoked.RevokedAt = now;
            db.Agents.AddRange(online, offline, revoked);
            var mappings = await db.Mappings.Where(m => m.ProjectId == project).ToListAsync();
            mappings.Single(m => m.SourceDevice == "GRD-0003").AgentId = online.Id;
            mappings.Single(m => m.SourceDevice == "GRD-0004").AgentId = offline.Id;
            mappings.Single(m => m.SourceDevice == "GRD-0005").AgentId = revoked.Id;
            mappings.Single(m => m.SourceDevice == "GRD-0006").AgentId = Guid.NewGuid();
            await db.SaveChangesAsync();
        }
        DateTimeOffset runAt;
        await using (var scope = host.Scope())
        {
            runAt = await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Runs.Where(r => r.ProjectId == project).Select(r => r.CreatedAt).SingleAsync();
        }

        await using var reading = host.Scope();
        var grid = reading.ServiceProvider.GetRequiredService<MappingGrid>();
        var descending = await grid.WindowAsync(project, new MappingFilter(), "-sourceDevice", 0, 4, default);
        var next = await grid.WindowAsync(project, new MappingFilter(), "-sourceDevice", 4, 4, default);
        var waiting = await grid.WindowAsync(project, new MappingFilter { Status = "WaitingToStart" }, "sourceDevice", 0, 10, default);

        Assert.Equal(["GRD-0006", "GRD-0005", "GRD-0004", "GRD-0003"], descending.Rows.Select(r => r.SourceDevice));
        Assert.Equal(["removed", "revoked", "offline", "online"], descending.Rows.Select(r => r.AgentState));
        Assert.Equal(["GRD-0002", "GRD-0001"], next.Rows.Select(r => r.SourceDevice));
        Assert.Equal(["not enrolled", "not enrolled"], next.Rows.Select(r => r.AgentState));
        Assert.All(descending.Rows, r => Assert.Null(r.LastRunAt));
        Assert.Equal(new MappingTotal(6, IsEstimate: false), descending.Total);
        Assert.Equal(["GRD-0001", "GRD-0002"], waiting.Rows.Select(r => r.SourceDevice));
        Assert.All(waiting.Rows, r => Assert.Equal(runAt, r.LastRunAt));
        Assert.All(waiting.Rows, r => Assert.NotNull(r.LastRunId));
        Assert.Equal(new MappingTotal(2, IsEstimate: false), waiting.Total);
    }

    [Fact]
    public async Task Totals_read_by_status_past_ten_thousand_are_reused_as_estimates_and_smaller_ones_are_counted()
    {
        var project = await Client.CreateProjectAsync();
        await Client.ImportDevicesAsync(project, "EST-", 3);
        var counts = host.App.Services.GetRequiredService<MappingCounts>();
        // As a reading of the project by status would have found them (the store holds 3: an estimate is not counted again).
        counts.Remember(project, new Dictionary<string, int> { [MappingQuery.NotStarted] = 12_000, ["Failed"] = 20 });

        await using var scope = host.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        async Task<MappingTotal> Count(MappingFilter filter) =>
            await counts.CountAsync(project, filter, MappingQuery.Apply(db, db.Mappings.Where(m => m.ProjectId == project), filter), default);

        Assert.Equal(new MappingTotal(12_020, IsEstimate: true), await Count(new MappingFilter()));
        Assert.Equal(new MappingTotal(12_000, IsEstimate: true), await Count(new MappingFilter { Status = "notstarted" }));
        Assert.Equal(new MappingTotal(0, IsEstimate: false), await Count(new MappingFilter { Status = "Failed" }));
        host.Time.Advance(MappingCounts.MaxAge);
        Assert.Equal(new MappingTotal(3, IsEstimate: false), await Count(new MappingFilter()));
    }

    private static DeviceAgent Agent(Guid connection, string device, DateTimeOffset seen) => new()
    {
        Id = Guid.NewGuid(),
        ConnectionId = connection,
        DeviceName = device,
        DeviceKey = device.ToUpperInvariant(),
        CredentialHash = "not-a-credential",
        EnrolledAt = seen,
        LastSeenAt = seen,
        Approval = AgentApproval.Active,
    };
}

public sealed class MappingGridOnSqlite(SqliteServer server) : MappingGridSuite(server.Host), IClassFixture<SqliteServer>;

public sealed class MappingGridOnPostgres(PostgresServer server) : MappingGridSuite(server.Host), IClassFixture<PostgresServer>;
