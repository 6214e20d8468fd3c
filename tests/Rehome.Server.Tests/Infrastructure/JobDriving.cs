using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Core.Runs;
using Rehome.Server.Runs;
using Rehome.Server.Store;

namespace Rehome.Server.Tests.Infrastructure;

/// <summary>Ends a mapping's jobs as its agent would, without an agent: for tests about what the server does with them.</summary>
public static class JobDriving
{
    /// <summary>Leases the mapping's next startable job and ends it as <paramref name="status"/>; returns the job as leased.</summary>
    public static async Task<Job> EndNextJobAsync(this ServerHost host, Guid mapping, JobStatus status, JobProgress? progress = null)
    {
        await using var scope = host.Scope();
        var transitions = scope.ServiceProvider.GetRequiredService<JobTransitions>();
        var job = await transitions.LeaseNextAsync(mapping, Guid.NewGuid(), TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.NotNull(job);
        Assert.True(await transitions.CompleteAsync(job.Id, job.LeaseOwner!.Value, job.LeaseToken!.Value,
            new JobCompletion(status, progress ?? new JobProgress(10, 10, 3, 0), status == JobStatus.Failed ? "StepFailed" : null, null), CancellationToken.None));
        return job;
    }

    /// <summary>Runs <paramref name="action"/> on the server's job transitions, in a scope of its own.</summary>
    public static async Task<T> WithTransitionsAsync<T>(this ServerHost host, Func<JobTransitions, Task<T>> action)
    {
        await using var scope = host.Scope();
        return await action(scope.ServiceProvider.GetRequiredService<JobTransitions>());
    }

    /// <summary>The one job of a mapping, as the store holds it now.</summary>
    public static async Task<Job> StoredJobOfAsync(this ServerHost host, Guid mappingId)
    {
        await using var scope = host.Scope();
        return await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Jobs.AsNoTracking().SingleAsync(j => j.MappingId == mappingId);
    }
}
