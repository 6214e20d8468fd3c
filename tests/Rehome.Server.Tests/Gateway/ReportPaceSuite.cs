using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Protocol;
using Rehome.Server.Runs;
using Rehome.Server.Store;
using Rehome.Server.Tests.Api;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Gateway;

/// <summary>
/// Agents report less often when many jobs run at once, and their leases last four of the longer waits; on SQLite and
/// PostgreSQL.
/// </summary>
public abstract class ReportPaceSuite(ServerHost host)
{
    [Fact]
    public async Task A_busy_server_asks_for_a_slower_pace_and_lengthens_the_lease_to_four_waits_and_the_clock_sets_the_pace_from_the_running_jobs()
    {
        using var device = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"), source: new { domainDnsName = "contoso.example" });
        var job = await host.RunAndPollAsync(device, "RejoinDomain");
        var pace = host.App.Services.GetRequiredService<ReportPace>();

        // 10,000 jobs running at 250 reports a second: one report every 40 s, a lease of 160 s.
        pace.Update(10_000);
        var busy = await ReportAsync(device, job);

        Assert.Equal(40, busy.ReportSeconds);
        Assert.InRange(await LeaseSecondsLeftAsync(job.JobId), 150, 160.001);

        // The engine's clock counts the jobs running in the store (this one) once its interval is past: the agents' own
        // pace and the configured lease.
        host.Time.Advance(new RunEngineOptions().PaceInterval);
        await using (var scope = host.Scope())
        {
            await scope.ServiceProvider.GetRequiredService<RunEngineService>().TickAsync(CancellationToken.None);
        }
        Assert.Equal(1, pace.Running);
        var quiet = await ReportAsync(device, job);

        Assert.Null(quiet.ReportSeconds);
        Assert.InRange(await LeaseSecondsLeftAsync(job.JobId), 50, 60.001);
    }

    private static async Task<ProgressAnswer> ReportAsync(EnrolledDevice device, JobAssignment job)
    {
        var response = await device.Agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/progress",
            new ProgressReport { LeaseToken = job.LeaseToken, Step = "PrepareJoin" }, AgentProtocol.JsonOptions);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<ProgressAnswer>(AgentProtocol.JsonOptions))!;
    }

    /// <summary>How long the job's lease has left on the server's clock (stopped in these tests).</summary>
    private async Task<double> LeaseSecondsLeftAsync(Guid jobId)
    {
        await using var scope = host.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var expires = await db.Jobs.IgnoreQueryFilters().Where(j => j.Id == jobId).Select(j => j.LeaseExpiresAt).SingleAsync();
        return (expires!.Value - host.Now).TotalSeconds;
    }
}

public sealed class ReportPaceOnSqlite(BadInputSqliteServer server) : ReportPaceSuite(server.Host), IClassFixture<BadInputSqliteServer>;

public sealed class ReportPaceOnPostgres(BadInputPostgresServer server) : ReportPaceSuite(server.Host), IClassFixture<BadInputPostgresServer>;

/// <summary>The pace itself: the agents' own until the reports would pass the budget, then slower, never past a minute.</summary>
public sealed class ReportPaceTests
{
    [Theory]
    [InlineData(0, 250, null)]
    [InlineData(1_250, 250, null)]
    [InlineData(1_251, 250, 6)]
    [InlineData(10_000, 250, 40)]
    [InlineData(1_000_000, 250, 60)]
    [InlineData(6, 1, 6)]
    public void The_interval_keeps_the_reports_near_the_budget(int running, int reportsPerSecond, int? seconds) =>
        Assert.Equal(seconds is { } s ? TimeSpan.FromSeconds(s) : null, ReportPace.IntervalFor(running, reportsPerSecond));

    [Theory]
    [InlineData(60, null, 60)]
    [InlineData(60, 15, 60)]
    [InlineData(60, 40, 160)]
    [InlineData(5, 6, 24)]
    public void A_lease_lasts_the_configured_time_or_four_waits(int configured, int? interval, int lease) =>
        Assert.Equal(TimeSpan.FromSeconds(lease), ReportPace.LeaseWith(TimeSpan.FromSeconds(configured), interval is { } i ? TimeSpan.FromSeconds(i) : null));
}
