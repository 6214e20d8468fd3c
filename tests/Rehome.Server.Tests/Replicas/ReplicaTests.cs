using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Protocol;
using Rehome.Server.Directories;
using Rehome.Server.Tests.Infrastructure;
using static Rehome.Server.Tests.Replicas.TwoReplicas;

namespace Rehome.Server.Tests.Replicas;

/// <summary>Whatever replica a request, a tick or a poll lands on, the jobs behave as on one server.</summary>
public sealed class ReplicaTests(TwoReplicas replicas) : IClassFixture<TwoReplicas>
{
    private ServerHost A => replicas.A;

    private ServerHost B => replicas.B;

    [Fact]
    public async Task A_job_made_startable_on_one_replica_wakes_a_poll_waiting_on_the_other()
    {
        using var device = await A.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        using var onB = AgentOn(B, device);
        await ListeningAsync(B);
        await NothingYetAsync(onB);

        await StartRunAsync(A, device, "RejoinDomain");
        // A prepares the destination: the job becomes startable there, and only A's signal can reach B's poll.
        await TickAsync(A);
        var job = await AssignmentAsync(await PollAsync(onB, AgentProtocol.MaxPollSeconds));

        Assert.Equal((AgentJobKind.RejoinDomain, device.DeviceName), (job.Kind, job.Mapping.SourceDevice));
    }

    [Fact]
    public async Task A_rejoin_ended_on_one_replica_releases_its_dependents_to_the_agents_next_poll_on_the_other()
    {
        using var device = await A.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        using var onB = AgentOn(B, device);
        await ListeningAsync(B);
        await StartRunAsync(A, device, "RejoinDomain", "MigratePermissions");
        await TickAsync(A);
        var rejoin = await AssignmentAsync(await PollAsync(device.Agent, 0));
        // B knows the lease A gave: a poll without the job (its answer lost) gets the rejoin again, never the dependent job.
        var sentAgain = await AssignmentAsync(await PollAsync(onB, 0));
        Assert.Equal((rejoin.JobId, 1), (sentAgain.JobId, sentAgain.Attempt));
        rejoin = sentAgain;

        using var completed = await device.Agent.PostAsJsonAsync($"/agent/v1/jobs/{rejoin.JobId}/complete",
            new CompletionReport { LeaseToken = rejoin.LeaseToken, Status = CompletionStatus.Finished }, AgentProtocol.JsonOptions);
        Assert.True(completed.IsSuccessStatusCode, $"The completion answered {(int)completed.StatusCode}: {await completed.Content.ReadAsStringAsync()}");
        var permissions = await AssignmentAsync(await PollAsync(onB, AgentProtocol.MaxPollSeconds));

        Assert.Equal(AgentJobKind.MigratePermissions, permissions.Kind);
    }

    [Fact]
    public async Task A_scheduled_run_is_released_and_its_destination_prepared_once_when_both_replicas_tick_together()
    {
        using var device = await A.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        using var onB = AgentOn(B, device);
        await B.Client.PostJsonAsync($"/api/v1/projects/{device.ProjectId}/runs",
            new { kinds = new[] { "RejoinDomain" }, mappingIds = new[] { device.MappingId }, startAt = B.Now.AddHours(1) });

        replicas.Advance(TimeSpan.FromHours(2));
        await Task.WhenAll(TickAsync(A), TickAsync(B));
        // Whichever released it, the other's tick may have looked for destinations before that commit.
        await Task.WhenAll(TickAsync(A), TickAsync(B));
        var job = await AssignmentAsync(await PollAsync(onB, 0));
        // One job, one attempt: the agent's poll on A (the answer from B lost) gets that job again, not a second job.
        var second = await AssignmentAsync(await PollAsync(device.Agent, 0));
        var stored = await A.Client.GetJsonAsync($"/api/v1/jobs/{job.JobId}");

        Assert.Equal((job.JobId, 1), (second.JobId, second.Attempt));
        Assert.Equal(("InProgress", 1), (stored.GetProperty("status").GetString(), stored.GetProperty("attempts").GetInt32()));
    }

    [Fact]
    public async Task A_stop_asked_on_one_replica_reaches_the_agent_reporting_to_the_other()
    {
        using var device = await A.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        var job = await A.RunAndPollAsync(device, "RejoinDomain");

        await B.Client.PostJsonAsync($"/api/v1/jobs/{job.JobId}/stop", new { }, HttpStatusCode.OK);
        using var progress = await device.Agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/progress",
            new ProgressReport { LeaseToken = job.LeaseToken, Step = "Working" }, AgentProtocol.JsonOptions);

        Assert.Equal(HttpStatusCode.OK, progress.StatusCode);
        Assert.True((await progress.Content.ReadFromJsonAsync<ProgressAnswer>(AgentProtocol.JsonOptions))!.StopRequested);
    }

    [Fact]
    public async Task A_directory_retry_window_started_on_one_replica_is_continued_and_spent_on_the_other()
    {
        using var device = await A.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        var run = await StartRunAsync(A, device, "RejoinDomain");
        var jobId = (await A.Client.GetJsonAsync($"/api/v1/runs/{run}/jobs")).GetProperty("items")[0].Id();

        var first = await RetriesAsync(A, r => r.FailedAsync(jobId, null, CancellationToken.None));
        var waitOnB = await RetriesAsync(B, r => r.WaitLeftAsync(jobId, CancellationToken.None));
        replicas.Advance(TimeSpan.FromMinutes(29));
        var withinWindow = await RetriesAsync(B, r => r.FailedAsync(jobId, null, CancellationToken.None));
        replicas.Advance(TimeSpan.FromMinutes(1));
        var spent = await RetriesAsync(B, r => r.FailedAsync(jobId, null, CancellationToken.None));

        Assert.Equal(TimeSpan.FromSeconds(5), first.RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(5), waitOnB);
        Assert.Equal((false, TimeSpan.FromSeconds(10)), (withinWindow.GiveUp, withinWindow.RetryAfter));
        Assert.True(spent.GiveUp);
    }

    [Fact]
    public async Task A_directory_that_answers_again_on_one_replica_ends_the_back_off_on_the_other()
    {
        using var device = await A.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        var run = await StartRunAsync(A, device, "RejoinDomain");
        var jobId = (await A.Client.GetJsonAsync($"/api/v1/runs/{run}/jobs")).GetProperty("items")[0].Id();

        await RetriesAsync(A, r => r.FailedAsync(jobId, null, CancellationToken.None));
        await RetriesAsync(B, async r => { await r.SucceededAsync(jobId, CancellationToken.None); return 0; });

        Assert.Null(await RetriesAsync(A, r => r.WaitLeftAsync(jobId, CancellationToken.None)));
    }

    [Fact]
    public async Task A_replica_whose_listening_connection_was_terminated_listens_again_and_wakes_its_polls()
    {
        using var device = await A.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        using var onB = AgentOn(B, device);
        var listener = await ListeningAsync(B);
        var times = listener.Connections;

        await TerminateBackendAsync(listener.BackendProcessId!.Value);
        await ListeningAsync(B, times + 1);
        await NothingYetAsync(onB);
        await StartRunAsync(A, device, "RejoinDomain");
        await TickAsync(A);
        var job = await AssignmentAsync(await PollAsync(onB, AgentProtocol.MaxPollSeconds));

        Assert.Equal(device.DeviceName, job.Mapping.SourceDevice);
    }

    [Fact]
    public async Task An_agent_revoked_through_one_replica_is_refused_by_the_other()
    {
        using var device = await A.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        using var onB = AgentOn(B, device);
        await ListeningAsync(B);
        // B knows the agent now (its credential is in B's memory).
        await NothingYetAsync(onB);

        Assert.Equal(HttpStatusCode.NoContent, (await A.Client.PostAsJsonAsync($"/api/v1/agents/{device.AgentId}/revoke", new { })).StatusCode);

        // The revocation travels to B by notification: B refuses the agent once it has heard, never serving it again.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        HttpStatusCode status;
        while ((status = (await PollAsync(onB, 0)).StatusCode) != HttpStatusCode.Unauthorized && DateTime.UtcNow < deadline)
        {
            Assert.Equal(HttpStatusCode.NoContent, status);
            await Task.Delay(100);
        }
        Assert.True(status == HttpStatusCode.Unauthorized, $"Replica B still serves the agent revoked through A ({(int)status}).");
        Assert.Equal(HttpStatusCode.Unauthorized, (await PollAsync(onB, 0)).StatusCode);
    }

    /// <summary>The agent polls and finds nothing: its server has looked in the store, and looks again only when signalled.</summary>
    private static async Task NothingYetAsync(HttpClient agent) =>
        Assert.Equal(HttpStatusCode.NoContent, (await PollAsync(agent, 0)).StatusCode);

    private static async Task<Guid> StartRunAsync(ServerHost host, EnrolledDevice device, params string[] kinds) =>
        (await host.Client.PostJsonAsync($"/api/v1/projects/{device.ProjectId}/runs", new { kinds, mappingIds = new[] { device.MappingId } }))
            .GetProperty("run").Id();

    private static async Task<JobAssignment> AssignmentAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"The poll answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JobAssignment>(AgentProtocol.JsonOptions))!;
    }

    private static async Task<T> RetriesAsync<T>(ServerHost host, Func<DirectoryRetries, Task<T>> call)
    {
        await using var scope = host.Scope();
        return await call(scope.ServiceProvider.GetRequiredService<DirectoryRetries>());
    }
}
