using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Protocol;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Gateway;

/// <summary>
/// Issue 12: a device is bound to the key its agent proved; anyone else holding the configuration key who claims
/// the device's name is held for an administrator and gets nothing; only the lease holder writes about a job.
/// </summary>
public sealed class DeviceIdentityTests(SimulatedDirectoryServer server) : IClassFixture<SimulatedDirectoryServer>
{
    private ServerHost Host => server.Host;

    private static ECDsa NewKey() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private static async Task<EnrollResponse> AnswerAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<EnrollResponse>(AgentProtocol.JsonOptions))!;
    }

    private async Task<JsonElement> AgentAsync(Guid id) => await Host.Client.GetJsonAsync($"/api/v1/agents/{id}");

    private async Task<List<string>> AuditAsync(Guid agentId)
    {
        await using var scope = Host.Scope();
        return await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().AuditLog.AsNoTracking()
            .Where(a => a.Target == $"agent/{agentId}").OrderBy(a => a.Id).Select(a => a.Action).ToListAsync();
    }

    /// <summary>The takeover of issue 12, tried with the device's name and another case of it.</summary>
    private async Task<Guid> HoldAttackerAsync(EnrolledDevice device, ECDsa attacker)
    {
        var upper = await AnswerAsync(await Host.EnrollAsync(device.ConfigurationKey, device.DeviceName, attacker, "ATTACKER-HW"), HttpStatusCode.Accepted);
        Host.Time.Advance(TimeSpan.FromSeconds(1));
        var lower = await AnswerAsync(await Host.EnrollAsync(device.ConfigurationKey, device.DeviceName.ToLowerInvariant(), attacker, "ATTACKER-HW"), HttpStatusCode.Accepted);
        Assert.True(upper.AwaitingApproval);
        Assert.Null(upper.Credential);
        Assert.Null(upper.MappingId);
        Assert.Equal(upper.AgentId, lower.AgentId);
        Assert.Null(lower.Credential);
        return upper.AgentId;
    }

    [Fact]
    public async Task Another_key_claiming_an_enrolled_device_is_held_and_the_devices_agent_keeps_its_mapping_and_its_jobs()
    {
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        using var attacker = NewKey();

        var held = await HoldAttackerAsync(device, attacker);

        var real = await AgentAsync(device.AgentId);
        Assert.Equal(("online", device.MappingId), (real.GetProperty("state").GetString(), real.GetProperty("mappingId").GetGuid()));
        var waiting = await AgentAsync(held);
        Assert.Equal("awaiting-approval", waiting.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, waiting.GetProperty("mappingId").ValueKind);
        Assert.Equal("ATTACKER-HW", waiting.GetProperty("identity").GetProperty("hardwareId").GetString());
        Assert.Equal(device.AgentId, waiting.GetProperty("replaces").GetProperty("id").GetGuid());
        Assert.NotEqual(waiting.GetProperty("identity").GetProperty("keyFingerprint").GetString(),
            waiting.GetProperty("replaces").GetProperty("identity").GetProperty("keyFingerprint").GetString());
        var listed = await Host.Client.GetJsonAsync($"/api/v1/agents?state=awaiting-approval&search={device.DeviceName}");
        Assert.Equal([held], listed.GetProperty("items").EnumerateArray().Select(a => a.Id()));
        // The device's own agent still receives its job; the held one has no credential to poll with.
        var job = await Host.RunAndPollAsync(device, "RejoinDomain");
        Assert.Equal(device.DeviceName, job.Mapping.SourceDevice);
        Assert.Equal(["agent.enrollment-held"], await AuditAsync(held));
    }

    [Fact]
    public async Task Approving_a_held_enrollment_revokes_the_devices_agent_and_hands_the_mapping_to_the_newcomer_once_it_proves_its_key()
    {
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        using var newcomer = NewKey();
        var held = await HoldAttackerAsync(device, newcomer);

        using var approve = await Host.Client.PostAsJsonAsync($"/api/v1/agents/{held}/approve", new { });

        Assert.Equal(HttpStatusCode.NoContent, approve.StatusCode);
        Assert.Equal("revoked", (await AgentAsync(device.AgentId)).GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await device.Agent.PostAsync(new Uri("/agent/v1/poll?wait=0", UriKind.Relative), null)).StatusCode);
        Host.Time.Advance(TimeSpan.FromSeconds(1));
        var enrolled = await AnswerAsync(await Host.EnrollAsync(device.ConfigurationKey, device.DeviceName, newcomer, "ATTACKER-HW"), HttpStatusCode.OK);
        Assert.Equal((held, device.MappingId, false), (enrolled.AgentId, enrolled.MappingId, enrolled.AwaitingApproval));
        using var agent = Host.AgentClient(enrolled.Credential!);
        var job = await Host.RunAndPollAsync(device with { Agent = agent }, "RejoinDomain");
        Assert.Equal(device.DeviceName, job.Mapping.SourceDevice);
        Assert.Equal(["agent.enrollment-held", "agent.enrollment-approved", "agent.enroll"], await AuditAsync(held));
        Assert.Equal(HttpStatusCode.Conflict, (await Host.Client.PostAsJsonAsync($"/api/v1/agents/{held}/approve", new { })).StatusCode);
    }

    [Fact]
    public async Task A_refused_enrollment_leaves_the_device_with_its_agent_and_the_same_key_is_refused_again()
    {
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        using var attacker = NewKey();
        var held = await HoldAttackerAsync(device, attacker);

        using var refuse = await Host.Client.PostAsJsonAsync($"/api/v1/agents/{held}/refuse", new { });

        Assert.Equal(HttpStatusCode.NoContent, refuse.StatusCode);
        Assert.Equal("refused", (await AgentAsync(held)).GetProperty("state").GetString());
        Assert.Equal("online", (await AgentAsync(device.AgentId)).GetProperty("state").GetString());
        Host.Time.Advance(TimeSpan.FromSeconds(1));
        var again = await (await Host.EnrollAsync(device.ConfigurationKey, device.DeviceName, attacker)).JsonAsync(HttpStatusCode.Forbidden);
        Assert.Equal("EnrollmentRefused", again.GetProperty("rule").GetString());
        Assert.Equal(device.DeviceName, (await Host.RunAndPollAsync(device, "RejoinDomain")).Mapping.SourceDevice);
        Assert.Equal(["agent.enrollment-held", "agent.enrollment-refused"], await AuditAsync(held));
    }

    [Fact]
    public async Task A_device_that_proves_its_key_again_gets_a_new_credential_and_keeps_its_mapping()
    {
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        Host.Time.Advance(TimeSpan.FromSeconds(1));

        var again = await AnswerAsync(await Host.EnrollAsync(device.ConfigurationKey, device.DeviceName.ToLowerInvariant(), device.DeviceKey), HttpStatusCode.OK);

        Assert.Equal(device.MappingId, again.MappingId);
        Assert.NotNull(again.Credential);
        Assert.Equal(HttpStatusCode.Unauthorized, (await device.Agent.PostAsync(new Uri("/agent/v1/poll?wait=0", UriKind.Relative), null)).StatusCode);
        using var agent = Host.AgentClient(again.Credential!);
        Assert.Equal(device.DeviceName, (await Host.RunAndPollAsync(device with { Agent = agent }, "RejoinDomain")).Mapping.SourceDevice);
    }

    [Fact]
    public async Task A_forged_signature_a_stale_or_replayed_proof_and_no_proof_are_refused_and_enroll_nothing()
    {
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        using var other = NewKey();
        var enrolledAt = Host.Time.GetUtcNow();
        Host.Time.Advance(TimeSpan.FromSeconds(1));
        var now = Host.Time.GetUtcNow();
        var facts = new DeviceFacts { DeviceName = device.DeviceName, OsVersion = "Windows 11", AgentVersion = "test" };
        // The device's public key, signed by another key: what a thief of the public key alone can make.
        var forged = new EnrollRequest(device.ConfigurationKey, facts, DeviceProof.ForEnrollment(device.ConfigurationKey, device.DeviceName,
            device.DeviceKey.ExportSubjectPublicKeyInfo(), "HW", now, data => other.SignData(data, HashAlgorithmName.SHA256)));
        // A proof made for another device name does not pass for this one.
        var otherName = EnrollRequest.Signed(device.ConfigurationKey, facts with { DeviceName = "ELSEWHERE" }, device.DeviceKey, "HW", now) with { Device = facts };
        var cases = new (string Rule, HttpResponseMessage Response)[]
        {
            ("SignatureInvalid", await Host.Anonymous.PostAsJsonAsync("/agent/v1/enroll", forged, AgentProtocol.JsonOptions)),
            ("SignatureInvalid", await Host.Anonymous.PostAsJsonAsync("/agent/v1/enroll", otherName, AgentProtocol.JsonOptions)),
            ("ProofStale", await Host.EnrollAsync(device.ConfigurationKey, device.DeviceName, device.DeviceKey, signedAt: now - TimeSpan.FromMinutes(6))),
            ("ProofStale", await Host.EnrollAsync(device.ConfigurationKey, device.DeviceName, device.DeviceKey, signedAt: now + TimeSpan.FromMinutes(6))),
            // The very request the device enrolled with, sent again.
            ("ProofReplayed", await Host.EnrollAsync(device.ConfigurationKey, device.DeviceName, device.DeviceKey, signedAt: enrolledAt)),
            ("Required", await Host.Anonymous.PostAsJsonAsync("/agent/v1/enroll", new EnrollRequest(device.ConfigurationKey, facts), AgentProtocol.JsonOptions)),
        };

        foreach (var (rule, response) in cases)
        {
            var problem = await response.JsonAsync(HttpStatusCode.BadRequest);
            Assert.Equal(rule, problem.GetProperty("errors")[0].GetProperty("rule").GetString());
        }
        var agents = await Host.Client.GetJsonAsync($"/api/v1/agents?search={device.DeviceName}");
        Assert.Equal([device.AgentId], agents.GetProperty("items").EnumerateArray().Select(a => a.Id()));
        Assert.Equal(HttpStatusCode.NoContent, (await device.Agent.PostAsync(new Uri("/agent/v1/poll?wait=0", UriKind.Relative), null)).StatusCode);
    }

    [Fact]
    public async Task An_agent_enrolled_before_device_keys_binds_its_key_once_and_meanwhile_another_key_for_its_device_is_held()
    {
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        await using (var scope = Host.Scope())
        {
            await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Agents.Where(a => a.Id == device.AgentId)
                .ExecuteUpdateAsync(s => s.SetProperty(a => a.PublicKey, (string?)null).SetProperty(a => a.ProofSignedAt, (DateTimeOffset?)null));
        }
        using var newcomer = NewKey();
        Host.Time.Advance(TimeSpan.FromSeconds(1));
        var held = await AnswerAsync(await Host.EnrollAsync(device.ConfigurationKey, device.DeviceName, newcomer), HttpStatusCode.Accepted);
        Assert.True(held.AwaitingApproval);

        BindIdentityRequest Bind(ECDsa key) => new(DeviceProof.ForBinding(device.AgentId, key.ExportSubjectPublicKeyInfo(), "HW", Host.Time.GetUtcNow(),
            data => key.SignData(data, HashAlgorithmName.SHA256)));
        var bound = await device.Agent.PostAsJsonAsync("/agent/v1/identity", Bind(device.DeviceKey), AgentProtocol.JsonOptions);
        Host.Time.Advance(TimeSpan.FromSeconds(1));
        var rebound = await device.Agent.PostAsJsonAsync("/agent/v1/identity", Bind(newcomer), AgentProtocol.JsonOptions);

        Assert.Equal(HttpStatusCode.NoContent, bound.StatusCode);
        Assert.Equal("DeviceKeyAlreadyBound", (await rebound.JsonAsync(HttpStatusCode.Conflict)).GetProperty("rule").GetString());
        Assert.Equal(["agent.enroll", "agent.key-bound"], await AuditAsync(device.AgentId));
        Host.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await Host.EnrollAsync(device.ConfigurationKey, device.DeviceName, device.DeviceKey)).StatusCode);
    }

    [Fact]
    public async Task After_its_agent_is_revoked_a_device_is_held_for_any_key_its_own_too_until_an_administrator_deletes_the_revoked_agent()
    {
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        using var attacker = NewKey();
        Assert.Equal(HttpStatusCode.NoContent, (await Host.Client.PostAsJsonAsync($"/api/v1/agents/{device.AgentId}/revoke", new { })).StatusCode);
        Host.Time.Advance(TimeSpan.FromSeconds(1));

        var other = await AnswerAsync(await Host.EnrollAsync(device.ConfigurationKey, device.DeviceName, attacker, "ATTACKER-HW"), HttpStatusCode.Accepted);
        var own = await AnswerAsync(await Host.EnrollAsync(device.ConfigurationKey, device.DeviceName, device.DeviceKey), HttpStatusCode.Accepted);

        foreach (var held in new[] { other, own })
        {
            Assert.Equal((true, null, null), (held.AwaitingApproval, held.Credential, held.MappingId));
            Assert.Equal("awaiting-approval", (await AgentAsync(held.AgentId)).GetProperty("state").GetString());
        }
        Assert.NotEqual(other.AgentId, own.AgentId);
        Assert.Equal(HttpStatusCode.NoContent, (await Host.Client.DeleteAsync(new Uri($"/api/v1/agents/{device.AgentId}", UriKind.Relative))).StatusCode);
        Host.Time.Advance(TimeSpan.FromSeconds(1));
        var freed = await AnswerAsync(await Host.EnrollAsync(device.ConfigurationKey, device.DeviceName, device.DeviceKey), HttpStatusCode.OK);
        Assert.NotNull(freed.Credential);
    }

    [Theory]
    [InlineData("HW\u202Egnp.exe")]
    [InlineData("HW\u2066ID\u2069")]
    [InlineData("HW\u200BID")]
    [InlineData("HW\u001B[2J")]
    public async Task A_hardware_id_with_a_control_bidi_or_format_character_is_refused_naming_the_field_and_enrolls_nothing(string hardwareId)
    {
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        using var newcomer = NewKey();
        Host.Time.Advance(TimeSpan.FromSeconds(1));

        var problem = await (await Host.EnrollAsync(device.ConfigurationKey, device.DeviceName, newcomer, hardwareId)).JsonAsync(HttpStatusCode.BadRequest);

        Assert.Equal(("proof.hardwareId", "ControlCharacter"),
            (problem.GetProperty("errors")[0].GetProperty("field").GetString(), problem.GetProperty("errors")[0].GetProperty("rule").GetString()));
        var agents = await Host.Client.GetJsonAsync($"/api/v1/agents?search={device.DeviceName}");
        Assert.Equal([device.AgentId], agents.GetProperty("items").EnumerateArray().Select(a => a.Id()));
    }

    [Fact]
    public async Task A_log_chunk_with_a_stale_lease_token_of_the_same_agent_is_refused_and_stores_nothing()
    {
        using var device = await Host.EnrollDeviceAsync(AgentWorld.EntraDestination());
        var first = await Host.RunAndPollAsync(device, "RejoinDomain");
        Host.Time.Advance(TimeSpan.FromSeconds(first.LeaseSeconds + 1));
        await using (var scope = Host.Scope())
        {
            await scope.ServiceProvider.GetRequiredService<Rehome.Server.Runs.RunEngineService>().TickAsync(CancellationToken.None);
        }
        var poll = await device.Agent.PostAsync(new Uri("/agent/v1/poll?wait=0", UriKind.Relative), null);
        var second = (await poll.Content.ReadFromJsonAsync<JobAssignment>(AgentProtocol.JsonOptions))!;
        Assert.Equal(first.JobId, second.JobId);
        Assert.NotEqual(first.LeaseToken, second.LeaseToken);

        LogChunk Chunk(Guid lease, string text) => new() { LeaseToken = lease, Sequence = 0, Lines = [new LogLine(DateTimeOffset.UnixEpoch, "Information", text)] };
        var stale = await device.Agent.PostAsJsonAsync($"/agent/v1/jobs/{first.JobId}/log", Chunk(first.LeaseToken, "stale"), AgentProtocol.JsonOptions);
        var current = await device.Agent.PostAsJsonAsync($"/agent/v1/jobs/{first.JobId}/log", Chunk(second.LeaseToken, "current"), AgentProtocol.JsonOptions);

        Assert.Equal("LeaseLost", (await stale.JsonAsync(HttpStatusCode.Conflict)).GetProperty("rule").GetString());
        Assert.Equal(HttpStatusCode.NoContent, current.StatusCode);
        await using var read = Host.Scope();
        Assert.Equal(["current"], await read.ServiceProvider.GetRequiredService<RehomeDbContext>().JobLogLines.AsNoTracking()
            .Where(l => l.JobId == first.JobId).Select(l => l.Text).ToListAsync());
    }

    [Fact]
    public async Task Log_lines_sent_with_a_renewal_are_stored_once_and_only_under_the_current_lease()
    {
        using var device = await Host.EnrollDeviceAsync(AgentWorld.EntraDestination());
        var job = await Host.RunAndPollAsync(device, "RejoinDomain");
        ProgressReport Report(Guid lease, long sequence, params string[] texts) => new()
        {
            LeaseToken = lease,
            Step = "Starting",
            LogSequence = sequence,
            LogLines = [.. texts.Select(t => new LogLine(DateTimeOffset.UnixEpoch, "Information", t))],
        };

        var first = await device.Agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/progress", Report(job.LeaseToken, 0, "one", "two"), AgentProtocol.JsonOptions);
        // The answer was lost: the agent sends the same lines again with the next one.
        var again = await device.Agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/progress", Report(job.LeaseToken, 0, "one", "two", "three"), AgentProtocol.JsonOptions);
        var stale = await device.Agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/progress", Report(Guid.NewGuid(), 3, "stale"), AgentProtocol.JsonOptions);
        var none = await device.Agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/progress", Report(job.LeaseToken, 3), AgentProtocol.JsonOptions);

        Assert.Equal(2, (await first.Content.ReadFromJsonAsync<ProgressAnswer>(AgentProtocol.JsonOptions))!.LogLinesTaken);
        Assert.Equal(3, (await again.Content.ReadFromJsonAsync<ProgressAnswer>(AgentProtocol.JsonOptions))!.LogLinesTaken);
        Assert.Equal("LeaseLost", (await stale.JsonAsync(HttpStatusCode.Conflict)).GetProperty("rule").GetString());
        Assert.Null((await none.Content.ReadFromJsonAsync<ProgressAnswer>(AgentProtocol.JsonOptions))!.LogLinesTaken);
        await using var read = Host.Scope();
        Assert.Equal(["one", "two", "three"], await read.ServiceProvider.GetRequiredService<RehomeDbContext>().JobLogLines.AsNoTracking()
            .Where(l => l.JobId == job.JobId).OrderBy(l => l.Sequence).ThenBy(l => l.LineNumber).Select(l => l.Text).ToListAsync());
    }

    [Fact]
    public async Task Another_agent_presenting_the_lease_token_of_a_job_writes_nothing_about_it()
    {
        using var holder = await Host.EnrollDeviceAsync(AgentWorld.EntraDestination());
        using var intruder = await Host.EnrollDeviceAsync(AgentWorld.EntraDestination());
        await Host.Client.UploadPackageAsync(holder.DestinationId, System.Text.Encoding.UTF8.GetBytes("PKG-" + new string('x', 5000)));
        var job = await Host.RunAndPollAsync(holder, "RejoinDomain");
        var lease = job.LeaseToken;
        var agent = intruder.Agent;

        var writes = new (string What, HttpResponseMessage Response)[]
        {
            ("progress", await agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/progress",
                new ProgressReport { LeaseToken = lease, Step = "Hijacked", ItemsDone = 7, ItemsTotal = 7 }, AgentProtocol.JsonOptions)),
            ("log", await agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/log",
                new LogChunk { LeaseToken = lease, Sequence = 0, Lines = [new LogLine(DateTimeOffset.UtcNow, "Information", "not mine")] }, AgentProtocol.JsonOptions)),
            ("sid-map", await agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/sid-map", new SidMapRequest(lease, ["S-1-5-21-1-2-3-1001"]), AgentProtocol.JsonOptions)),
            ("directory-action", await agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/directory-action",
                new DirectoryActionRequest { LeaseToken = lease, Action = DirectoryAction.MigrateEntraIdGroups, SourceEntraDeviceId = "x" }, AgentProtocol.JsonOptions)),
            ("return-ticket", await agent.AskReturnTicketAsync(job.JobId,
                new ReturnTicketRequest(lease, holder.DeviceName, DeviceJoinType.ActiveDirectory, "contoso.example", null))),
            ("package", await agent.DownloadPackageAsync(job.JobId, "destination", lease)),
            ("complete", await agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/complete",
                new CompletionReport { LeaseToken = lease, Status = CompletionStatus.Finished, ItemsDone = 7, ItemsTotal = 7 }, AgentProtocol.JsonOptions)),
        };

        foreach (var (what, response) in writes)
        {
            Assert.True(response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.NotFound,
                $"{what} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        var stored = await Host.Client.GetJsonAsync($"/api/v1/jobs/{job.JobId}");
        Assert.Equal(("InProgress", 0), (stored.GetProperty("status").GetString(), stored.GetProperty("itemsDone").GetInt32()));
        Assert.NotEqual("Hijacked", stored.GetProperty("step").GetString());
        var own = await holder.Agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/progress", new ProgressReport { LeaseToken = lease, Step = "Working" }, AgentProtocol.JsonOptions);
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
    }
}
