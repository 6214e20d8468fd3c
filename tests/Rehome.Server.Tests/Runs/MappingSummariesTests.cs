using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Core.Runs;
using Rehome.Server.Runs;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Runs;

/// <summary>The store's choice of the job a mapping shows is the Core rule's, on both stores.</summary>
public sealed class MappingSummariesTests
{
    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.PostgreSql)]
    public async Task The_store_shows_the_job_the_core_rule_puts_first_for_every_pair_of_statuses(StoreProvider provider)
    {
        await using var host = await ServerHost.StartAsync(provider);
        var statuses = Enum.GetValues<JobStatus>();
        var pairs = statuses.SelectMany(a => statuses.Select(b => (First: a, Second: b))).ToList();
        var project = await host.Client.CreateProjectAsync();
        var mappings = await host.Client.ImportDevicesAsync(project, "ORD-", pairs.Count);
        var run = await host.Client.PostJsonAsync($"/api/v1/projects/{project}/runs",
            new { kinds = new[] { "RejoinDomain", "MigratePermissions" }, mappingIds = mappings });
        var runId = run.GetProperty("run").Id();
        await using var scope = host.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        // The statuses are set on rows: the run's jobs may still be derived from run items.
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            var items = scope.ServiceProvider.GetRequiredService<RunItemStore>();
            await items.MaterialiseRunAsync(runId, default);
            await items.MakeLatestAsync(default);
            await transaction.CommitAsync();
        }
        var jobs = (await db.Jobs.AsNoTracking().Where(j => j.RunId == runId).ToListAsync()).ToLookup(j => j.MappingId);
        var expected = new Dictionary<Guid, Guid>();
        for (var i = 0; i < pairs.Count; i++)
        {
            var first = jobs[mappings[i]].Single(j => j.Kind == JobKind.RejoinDomain);
            var second = jobs[mappings[i]].Single(j => j.Kind == JobKind.MigratePermissions);
            var (a, b) = pairs[i];
            await db.Jobs.Where(j => j.Id == first.Id).ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, a));
            await db.Jobs.Where(j => j.Id == second.Id).ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, b));
            expected[mappings[i]] = MappingSummaryRules.Compare((a, first.Kind), (b, second.Kind)) <= 0 ? first.Id : second.Id;
        }

        // As every caller does: inside the transaction that moved the jobs.
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            await scope.ServiceProvider.GetRequiredService<MappingSummaries>().RefreshRunAsync(runId, host.Now, default);
            await transaction.CommitAsync();
        }

        var shown = await db.Mappings.AsNoTracking().Where(m => mappings.Contains(m.Id)).ToDictionaryAsync(m => m.Id, m => m.LastJobId);
        var wrong = pairs.Where((pair, i) => shown[mappings[i]] != expected[mappings[i]]).ToList();
        Assert.Empty(wrong);
    }
}
