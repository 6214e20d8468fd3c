using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Rehome.Cli.Rehearsal;
using Rehome.Core.Runs;
using Rehome.Protocol;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.EndToEnd.Tests;

/// <summary>The agent gateway's doors: enrollment, credentials, revocation, and one agent's jobs closed to another.</summary>
public sealed class GatewayTests
{
    private static DeviceFacts Facts(string name) => new() { DeviceName = name, OsVersion = "Windows 11", AgentVersion = "test" };

    private static async Task<(Guid AgentId, HttpClient Client)> EnrollAsync(LiveWorld world, string device)
    {
        var response = await world.Server.EnrollAsync(world.Scenario.ConfigurationKey, Facts(device));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var enrolled = (await response.Content.ReadFromJsonAsync<EnrollResponse>(AgentProtocol.JsonOptions))!;
        Assert.Equal(world.Scenario.Mappings[device], enrolled.MappingId);
        var client = new HttpClient { BaseAddress = world.Server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Agent", enrolled.Credential);
        return (enrolled.AgentId, client);
    }

    private static async Task<JobAssignment?> PollAsync(HttpClient agent, int wait = 0)
    {
        var response = await agent.PostAsync($"/agent/v1/poll?wait={wait}", null);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return null;
        }
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JobAssignment>(AgentProtocol.JsonOptions);
    }

    [Fact]
    public async Task A_wrong_configuration_key_enrolls_nothing()
    {
        await using var world = await LiveWorld.StartAsync(1, [JobKind.MigrateEntraIdGroups]);
        using var anonymous = new HttpClient { BaseAddress = world.Server.BaseAddress };

        var response = await anonymous.PostAsJsonAsync("/agent/v1/enroll", new EnrollRequest("rhk_not-the-key", Facts("CTS-PC00001")), AgentProtocol.JsonOptions);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var agents = await world.Api.GetAsync("/api/v1/agents", CancellationToken.None);
        Assert.Equal(0, (int)agents["total"]!);
    }

    [Fact]
    public async Task Facts_with_a_profile_sid_that_is_no_sid_or_negative_disk_space_are_refused_and_enroll_nothing()
    {
        await using var world = await LiveWorld.StartAsync(1, [JobKind.MigrateEntraIdGroups]);
        using var anonymous = new HttpClient { BaseAddress = world.Server.BaseAddress };
        var facts = Facts("CTS-PC00001") with { ProfileSids = ["S-1-5-21-1-2-3-1001", "not-a-sid"], FreeDiskSpaceBytes = -1 };

        var response = await world.Server.EnrollAsync(world.Scenario.ConfigurationKey, facts);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("device.profileSids[1]", body, StringComparison.Ordinal);
        Assert.Contains("device.freeDiskSpaceBytes", body, StringComparison.Ordinal);
        Assert.Equal(0, (int)(await world.Api.GetAsync("/api/v1/agents", CancellationToken.None))["total"]!);
    }

    [Fact]
    public async Task Enrollment_is_rate_limited_per_address()
    {
        await using var world = await LiveWorld.StartAsync(1, [JobKind.MigrateEntraIdGroups], settings: new() { ["Rehome:Gateway:EnrollmentsPerMinute"] = "2" });
        using var anonymous = new HttpClient { BaseAddress = world.Server.BaseAddress };
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            statuses.Add((await anonymous.PostAsJsonAsync("/agent/v1/enroll", new EnrollRequest("rhk_wrong", Facts("X")), AgentProtocol.JsonOptions)).StatusCode);
        }
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task A_revoked_agent_is_refused_at_once_and_gets_no_job()
    {
        await using var world = await LiveWorld.StartAsync(1, [JobKind.MigrateEntraIdGroups]);
        var (agentId, agent) = await EnrollAsync(world, RehearsalScenario.DeviceName(1));
        using (agent)
        {
            Assert.Null(await PollAsync(agent));
            var listed = await world.Api.GetAsync($"/api/v1/agents/{agentId}", CancellationToken.None);
            Assert.Equal("online", (string)listed["state"]!);

            await world.Api.PostAsync($"/api/v1/agents/{agentId}/revoke", new { }, CancellationToken.None);
            var runId = await world.RunAsync(JobKind.MigrateEntraIdGroups);

            var poll = await agent.PostAsync("/agent/v1/poll?wait=0", null);
            Assert.Equal(HttpStatusCode.Unauthorized, poll.StatusCode);
            Assert.Equal(JobStatus.WaitingToStart, LiveWorld.StatusOf(await world.JobAsync(runId, 1, JobKind.MigrateEntraIdGroups)));
            Assert.Equal("revoked", (string)(await world.Api.GetAsync($"/api/v1/agents/{agentId}", CancellationToken.None))["state"]!);
        }
    }

    [Fact]
    public async Task An_agent_replaying_another_agents_real_lease_token_can_neither_report_complete_nor_map_on_its_job()
    {
        await using var world = await LiveWorld.StartAsync(2, [JobKind.MigrateEntraIdGroups]);
        var (_, first) = await EnrollAsync(world, RehearsalScenario.DeviceName(1));
        var (_, second) = await EnrollAsync(world, RehearsalScenario.DeviceName(2));
        using (first)
        using (second)
        {
            var runId = await world.RunAsync(JobKind.MigrateEntraIdGroups);
            var job = (await PollAsync(first, wait: 5))!;
            Assert.Equal(RehearsalScenario.DeviceName(1), job.Mapping.SourceDevice);

            // The second agent holds the job's id and its real lease token (leaked, say): the token alone opens nothing.
            var progress = await second.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/progress",
                new ProgressReport { LeaseToken = job.LeaseToken, Step = "Hijack", ItemsDone = 7, ItemsTotal = 10 }, AgentProtocol.JsonOptions);
            var sidMap = await second.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/sid-map",
                new SidMapRequest(job.LeaseToken, ["S-1-5-21-1-2-3-1001"]), AgentProtocol.JsonOptions);
            var complete = await second.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/complete",
                new CompletionReport { LeaseToken = job.LeaseToken, Status = CompletionStatus.Failed, ErrorCode = "Hijacked" }, AgentProtocol.JsonOptions);
            var log = await second.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/log",
                new LogChunk { LeaseToken = job.LeaseToken, Sequence = 0, Lines = [new LogLine(DateTimeOffset.UtcNow, "Information", "not mine")] }, AgentProtocol.JsonOptions);
            var action = await second.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/directory-action",
                new DirectoryActionRequest { LeaseToken = job.LeaseToken, Action = DirectoryAction.MigrateEntraIdGroups, SourceEntraDeviceId = "x" }, AgentProtocol.JsonOptions);

            Assert.Equal(HttpStatusCode.Conflict, progress.StatusCode);
            Assert.Equal(HttpStatusCode.Conflict, sidMap.StatusCode);
            Assert.Equal(HttpStatusCode.Conflict, complete.StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, log.StatusCode);
            Assert.Equal(HttpStatusCode.Conflict, action.StatusCode);
            foreach (var refused in new[] { progress, sidMap, complete })
            {
                Assert.Contains("LeaseLost", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
            // Nothing the second agent sent reached the job: still in progress, no count, no step, no error.
            var stored = await world.JobAsync(runId, 1, JobKind.MigrateEntraIdGroups);
            Assert.Equal(JobStatus.InProgress, LiveWorld.StatusOf(stored));
            Assert.Equal(0, (int)stored["itemsDone"]!);
            Assert.NotEqual("Hijack", (string?)stored["step"]);
            Assert.Null((string?)stored["errorCode"]);
            // Its own poll brings its own device's job, never the other's.
            Assert.Equal(RehearsalScenario.DeviceName(2), (await PollAsync(second, wait: 5))!.Mapping.SourceDevice);

            // The holder's own calls work with the same token.
            var own = await first.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/progress",
                new ProgressReport { LeaseToken = job.LeaseToken, Step = "Working" }, AgentProtocol.JsonOptions);
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
            var done = await first.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/complete",
                new CompletionReport { LeaseToken = job.LeaseToken, Status = CompletionStatus.Finished }, AgentProtocol.JsonOptions);
            Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);
            Assert.Equal(JobStatus.Finished, LiveWorld.StatusOf(await world.JobAsync(runId, 1, JobKind.MigrateEntraIdGroups)));
        }
    }

    [Fact]
    public async Task Bad_agent_messages_get_a_clear_error_and_change_nothing()
    {
        await using var world = await LiveWorld.StartAsync(1, [JobKind.MigrateEntraIdGroups]);
        var (_, agent) = await EnrollAsync(world, RehearsalScenario.DeviceName(1));
        using (agent)
        {
            var runId = await world.RunAsync(JobKind.MigrateEntraIdGroups);
            var job = (await PollAsync(agent, wait: 5))!;

            var negative = await agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/progress",
                new ProgressReport { LeaseToken = job.LeaseToken, Step = "X", ItemsDone = -1 }, AgentProtocol.JsonOptions);
            var badSid = await agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/sid-map",
                new SidMapRequest(job.LeaseToken, ["S-1-5-21-1-2-3-1001", "not-a-sid"]), AgentProtocol.JsonOptions);
            var badJson = await agent.PostAsync($"/agent/v1/jobs/{job.JobId}/complete", new StringContent("{\"status\": 42", System.Text.Encoding.UTF8, "application/json"));

            Assert.Equal(HttpStatusCode.BadRequest, negative.StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, badSid.StatusCode);
            Assert.Contains("sids[1]", await badSid.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.BadRequest, badJson.StatusCode);
            var stored = await world.JobAsync(runId, 1, JobKind.MigrateEntraIdGroups);
            Assert.Equal(JobStatus.InProgress, LiveWorld.StatusOf(stored));
            Assert.Equal(0, (int)stored["itemsDone"]!);
        }
    }
}
