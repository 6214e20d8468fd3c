using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Core.Runs;
using Rehome.Server.Runs;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Directories;

/// <summary>A job waiting for its destination is prepared by one tick or replica at a time, and waits out its back-off.</summary>
public sealed class PreparationClaimTests
{
    [Fact]
    public async Task A_claimed_or_deferred_job_cannot_be_claimed_again_until_its_time_and_leaving_the_wait_drops_the_claim()
    {
        await using var host = await ServerHost.StartAsync(StoreProvider.Sqlite);
        var project = await host.Client.CreateProjectAsync();
        var mappings = await host.Client.ImportDevicesAsync(project, "CLM-", 2);
        await host.Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain" }, mappingIds = mappings });
        await using var scope = host.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var transitions = scope.ServiceProvider.GetRequiredService<JobTransitions>();
        var jobs = await db.Jobs.AsNoTracking().Where(j => mappings.Contains(j.MappingId)).Select(j => j.Id).ToListAsync();
        var now = host.Time.GetUtcNow();

        var first = await transitions.ClaimPreparationAsync(jobs[0], now.AddMinutes(5), default);
        var second = await transitions.ClaimPreparationAsync(jobs[0], now.AddMinutes(5), default);
        await transitions.DeferPreparationAsync(jobs[1], now.AddSeconds(30), "The DC did not answer; trying again later.", default);
        var deferred = await transitions.ClaimPreparationAsync(jobs[1], now.AddMinutes(5), default);
        host.Time.Advance(TimeSpan.FromSeconds(31));
        var afterBackOff = await transitions.ClaimPreparationAsync(jobs[1], host.Time.GetUtcNow().AddMinutes(5), default);
        await transitions.DestinationPreparedAsync(jobs[0], "cipher", null, null, default);
        var started = await db.Jobs.AsNoTracking().FirstAsync(j => j.Id == jobs[0]);
        var waiting = await db.Jobs.AsNoTracking().FirstAsync(j => j.Id == jobs[1]);

        Assert.True(first);
        Assert.False(second);
        Assert.False(deferred);
        Assert.True(afterBackOff);
        Assert.Equal(JobStatus.WaitingToStart, started.Status);
        Assert.Null(started.LeaseExpiresAt);
        Assert.Equal(JobStatus.WaitingForDestination, waiting.Status);
        Assert.Equal("The DC did not answer; trying again later.", waiting.ErrorMessage);
    }

    [Fact]
    public async Task On_PostgreSQL_two_replicas_claiming_the_same_jobs_at_once_each_job_is_claimed_by_exactly_one()
    {
        await using var host = await ServerHost.StartAsync(StoreProvider.PostgreSql);
        var project = await host.Client.CreateProjectAsync();
        var mappings = await host.Client.ImportDevicesAsync(project, "RCE-", 30);
        await host.Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain" }, mappingIds = mappings });
        // Two replicas' stores: each its own DbContext and connection, racing for the same rows.
        await using var first = host.App.Services.CreateAsyncScope();
        await using var second = host.App.Services.CreateAsyncScope();
        var replicas = new[] { first, second }.Select(s => s.ServiceProvider.GetRequiredService<JobTransitions>()).ToArray();
        var jobs = await first.ServiceProvider.GetRequiredService<RehomeDbContext>().Jobs.AsNoTracking()
            .Where(j => mappings.Contains(j.MappingId)).Select(j => j.Id).ToListAsync();
        Assert.Equal(30, jobs.Count);

        for (var round = 0; round < 20; round++)
        {
            var until = host.Time.GetUtcNow().AddMinutes(5);
            var claims = await Task.WhenAll(replicas.Select(async replica =>
            {
                var won = new List<Guid>();
                foreach (var job in jobs)
                {
                    if (await replica.ClaimPreparationAsync(job, until, default))
                    {
                        won.Add(job);
                    }
                }
                return won;
            }));

            Assert.Empty(claims[0].Intersect(claims[1]));
            Assert.Equal(jobs.Order(), claims[0].Concat(claims[1]).Order());
            // The claims lapse; the next round races for every job again.
            host.Time.Advance(TimeSpan.FromMinutes(6));
        }
    }

    [Fact]
    public async Task A_tick_prepares_the_waiting_destinations_in_rounds_until_none_is_left()
    {
        await using var host = await ServerHost.StartAsync(StoreProvider.Sqlite, new() { ["Rehome:Directories:Mode"] = "Simulated" });
        var project = await host.Client.CreateProjectAsync();
        var mappings = await host.Client.ImportDevicesAsync(project, "TCK-", 40);
        await host.Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain" }, mappingIds = mappings });

        await host.App.Services.GetRequiredService<RunEngineService>().TickAsync(default);

        await using var scope = host.App.Services.CreateAsyncScope();
        var statuses = await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Jobs.AsNoTracking()
            .Where(j => mappings.Contains(j.MappingId)).Select(j => j.Status).ToListAsync();
        Assert.Equal(40, statuses.Count(s => s == JobStatus.WaitingToStart));
    }
}
