using System.Data.Common;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Core.Runs;
using Rehome.Protocol;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Gateway;

/// <summary>
/// An agent that hangs up while the server commits its report (its HTTP timeout ran out under load): the server
/// finishes the unit of work it began and logs no failure for it. A 3,000-device rehearsal printed bare
/// "An error occurred using a transaction" lines from EF Core for exactly this: commits cancelled by the request's token.
/// </summary>
public abstract class AbortedAgentRequestSuite(StoreProvider provider) : IAsyncLifetime
{
    private readonly HangUpAtCommit hangUp = new();
    private ServerHost host = null!;

    public async Task InitializeAsync() => host = await ServerHost.StartAsync(provider, SimulatedDirectoryServer.Settings(), services =>
    {
        services.AddHttpContextAccessor();
        services.AddSingleton(hangUp);
        services.AddStoreInterceptor(provider, hangUp.With);
    });

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Progress_whose_agent_hangs_up_during_the_commit_is_kept_and_logs_no_failure()
    {
        var (device, job) = await LeasedJobAsync();
        using var _ = device;

        await HangUpDuringCommitAsync(device.Agent, $"/agent/v1/jobs/{job.JobId}/progress",
            new ProgressReport { LeaseToken = job.LeaseToken, Step = "PrepareJoin", ItemsDone = 7, ItemsTotal = 10 });

        Assert.Equal(7, (await StoredJobAsync(job.JobId)).ItemsDone);
    }

    [Fact]
    public async Task A_completion_whose_agent_hangs_up_during_the_commit_ends_the_job_and_logs_no_failure()
    {
        var (device, job) = await LeasedJobAsync();
        using var _ = device;

        await HangUpDuringCommitAsync(device.Agent, $"/agent/v1/jobs/{job.JobId}/complete",
            new CompletionReport { LeaseToken = job.LeaseToken, Status = CompletionStatus.Finished, ItemsDone = 10, ItemsTotal = 10 });

        Assert.Equal(JobStatus.Finished, (await StoredJobAsync(job.JobId)).Status);
    }

    private async Task<(EnrolledDevice Device, JobAssignment Job)> LeasedJobAsync()
    {
        var device = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"), source: new { domainDnsName = "contoso.example" });
        return (device, await host.RunAndPollAsync(device, "RejoinDomain"));
    }

    /// <summary>Posts the report, hangs up while the server commits it, and checks that the commit went through and nothing was logged as a failure.</summary>
    private async Task HangUpDuringCommitAsync<T>(HttpClient agent, string url, T report)
    {
        var linesBefore = host.Logs.Lines.Count;
        var ended = hangUp.Arm();
        await Assert.ThrowsAnyAsync<Exception>(() => agent.PostAsJsonAsync(url, report, AgentProtocol.JsonOptions));

        var how = await ended;
        var failures = host.Logs.Lines.Skip(linesBefore).Where(l => l.StartsWith("Error ", StringComparison.Ordinal) || l.StartsWith("Critical ", StringComparison.Ordinal)).ToList();
        Assert.True(failures.Count == 0, "Logged as failures:" + Environment.NewLine + string.Join(Environment.NewLine, failures));
        Assert.Equal("committed", how);
    }

    private async Task<Job> StoredJobAsync(Guid jobId)
    {
        await using var scope = host.Scope();
        return await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId);
    }

    /// <summary>
    /// Once armed, hangs up the HTTP request whose transaction is about to commit (after every statement ran) and waits
    /// until the server has seen the hang-up; then tells how the transaction ended.
    /// </summary>
    private sealed class HangUpAtCommit : DbTransactionInterceptor
    {
        private readonly Lock gate = new();
        private IServiceProvider services = null!;
        private TaskCompletionSource<string>? armed;
        private DbTransaction? hungUp;
        private TaskCompletionSource<string>? ended;

        public HangUpAtCommit With(IServiceProvider root)
        {
            services = root;
            return this;
        }

        public Task<string> Arm()
        {
            var next = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (gate)
            {
                armed = next;
            }
            return next.Task;
        }

        public override async ValueTask<InterceptionResult> TransactionCommittingAsync(
            DbTransaction transaction, TransactionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default)
        {
            if (services.GetRequiredService<IHttpContextAccessor>().HttpContext is not { } http
                || !http.Request.Path.StartsWithSegments("/agent/v1/jobs", StringComparison.Ordinal))
            {
                return result;
            }
            lock (gate)
            {
                if (armed is null)
                {
                    return result;
                }
                (ended, armed, hungUp) = (armed, null, transaction);
            }
            http.Abort();
            try
            {
                await Task.Delay(Timeout.Infinite, http.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                // The server has seen the hang-up.
            }
            return result;
        }

        public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            End(transaction, "committed");
            return Task.CompletedTask;
        }

        public override Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken = default)
        {
            End(transaction, $"{eventData.Action} failed: {eventData.Exception.GetType().Name}");
            return Task.CompletedTask;
        }

        private void End(DbTransaction transaction, string how)
        {
            lock (gate)
            {
                if (ReferenceEquals(transaction, hungUp))
                {
                    ended?.TrySetResult(how);
                    (ended, hungUp) = (null, null);
                }
            }
        }
    }
}

public sealed class AbortedAgentRequestOnSqlite() : AbortedAgentRequestSuite(StoreProvider.Sqlite);

public sealed class AbortedAgentRequestOnPostgres() : AbortedAgentRequestSuite(StoreProvider.PostgreSql);
