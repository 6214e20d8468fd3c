using System.Net;
using Rehome.Core.Mappings;
using Rehome.Server.Directories;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Directories;

/// <summary>A readiness check leaves each mapping's outcome on it, for the grid's column and filter; on SQLite and PostgreSQL.</summary>
public abstract class ReadinessColumnSuite(ServerHost host)
{
    private HttpClient Client => host.Client;

    private static string Prefix() => "Q" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();

    [Fact]
    public async Task A_readiness_check_keeps_each_mappings_outcome_and_reasons_and_the_list_filters_on_it()
    {
        var project = await Client.CreateProjectAsync("EntraId", "Offline", sourceEntraId: true);
        var (checkedPrefix, uncheckedPrefix) = (Prefix(), Prefix());
        var ids = await Client.ImportDevicesAsync(project, checkedPrefix, 3);
        await Client.ImportDevicesAsync(project, uncheckedPrefix, 2);

        await Client.PostJsonAsync($"/api/v1/projects/{project}/readiness", new { kinds = new[] { "MigrateEntraIdGroups" }, mappingIds = ids }, HttpStatusCode.OK);

        // No agent has enrolled on these devices: not ready, saying why.
        var notReady = await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?readiness=NotReady");
        Assert.Equal(3, notReady.GetProperty("total").GetInt32());
        var first = notReady.GetProperty("items")[0];
        Assert.Equal("NotReady", first.GetProperty("readiness").GetString());
        Assert.StartsWith("Agent (Failed): No agent has enrolled", first.GetProperty("readinessReasons").GetString(), StringComparison.Ordinal);
        Assert.Equal(host.Time.GetUtcNow(), first.GetProperty("readinessCheckedAt").GetDateTimeOffset());
        var notChecked = await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?readiness=NotChecked");
        Assert.Equal(2, notChecked.GetProperty("total").GetInt32());
        Assert.All(notChecked.GetProperty("items").EnumerateArray(), m => Assert.StartsWith(uncheckedPrefix, m.GetProperty("sourceDevice").GetString(), StringComparison.Ordinal));
        Assert.Equal(0, (await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?readiness=ready")).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task An_unknown_readiness_in_the_filter_is_refused_naming_it()
    {
        var project = await Client.CreateProjectAsync();

        var problem = await Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?readiness=Maybe%3Cb%3E", HttpStatusCode.BadRequest);

        Assert.Contains(problem.GetProperty("errors").EnumerateArray(), e => e.GetProperty("field").GetString() == "readiness");
        Assert.DoesNotContain("<b>", problem.GetRawText(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ReadinessOutcome.Passed, ReadinessOutcome.Passed, ReadinessState.Ready)]
    [InlineData(ReadinessOutcome.Passed, ReadinessOutcome.Warning, ReadinessState.Warnings)]
    [InlineData(ReadinessOutcome.Warning, ReadinessOutcome.Failed, ReadinessState.NotReady)]
    public void A_mappings_readiness_is_its_worst_check(ReadinessOutcome one, ReadinessOutcome other, ReadinessState expected)
    {
        var checks = new[] { new ReadinessItem("Agent", one, "a"), new ReadinessItem("Disk space", other, "b") };

        var mapping = new MappingReadiness(Guid.NewGuid(), "PC", "PC", checks.All(c => c.Outcome != ReadinessOutcome.Failed), checks);

        Assert.Equal(expected, mapping.State);
        Assert.Equal(expected == ReadinessState.Ready ? null : string.Join("\n", checks.Where(c => c.Outcome != ReadinessOutcome.Passed).Select(c => $"{c.Check} ({c.Outcome}): {c.Detail}")),
            mapping.Reasons);
    }
}

public sealed class ReadinessColumnOnSqlite(SqliteServer server) : ReadinessColumnSuite(server.Host), IClassFixture<SqliteServer>;

public sealed class ReadinessColumnOnPostgres(PostgresServer server) : ReadinessColumnSuite(server.Host), IClassFixture<PostgresServer>;
