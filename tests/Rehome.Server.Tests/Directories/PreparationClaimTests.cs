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
