using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Core.Validation;
using Rehome.Protocol;
using Rehome.Server.Store;
using Rehome.Server.Tests.Api;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Properties;

/// <summary>
/// Every agent message (/agent/v1), from a valid example mutated the ways a broken or hostile agent would, sent by a
/// really enrolled agent holding a real lease, by another enrolled agent replaying that lease, or with a wrong
/// credential: never a 5xx; a refusal is problem+json naming its rule (a 400 names the field) and changes nothing;
/// what is accepted is stored as sent; nothing unprintable from the input reaches the server's log.
/// </summary>
public abstract class AgentMessageProperties(ServerHost host)
{
    /// <summary>Who sends a case: the lease holder, another enrolled agent with the holder's lease token, or a wrong credential.</summary>
    private enum Caller
    {
        Holder,
        OtherAgent,
        WrongCredential,
    }

    /// <summary>A device whose agent holds the lease of a rejoin (Entra ID offline destination, package uploaded), and a second enrolled agent.</summary>
    private sealed record World(EnrolledDevice Holder, JobAssignment Job, EnrolledDevice Other, HttpClient WrongCredential) : IDisposable
    {
        public void Dispose()
        {
            Holder.Dispose();
            Other.Dispose();
            WrongCredential.Dispose();
        }
    }

    /// <summary>One message as an agent sends it: method, address (route and query values in it), body, lease header.</summary>
    private sealed record Message(HttpMethod Method, string Url, JsonNode? Body = null, string? Lease = null);

    /// <summary>Route, query and header values a broken agent sends in place of the right ones (the first is the right one's slot).</summary>
    private static readonly string[] PackageIds = ["", "", "00000000-0000-0000-0000-000000000000", "not-a-guid", "%E2%80%AE1"];

    private static readonly string[] JobIds = ["", "", "", "", "", "00000000-0000-0000-0000-000000000000", "0f8fad5b-d9cb-469f-a165-70867728950e", "not-a-guid", "%E2%80%AE1", "%00"];

    private static readonly string[] Purposes = ["destination", "destination", "return", "Destination", "0", "destination,return", "%1B%5B2J", "elsewhere"];

    // An empty or positive wait would hold the poll open for up to a minute; these answer at once.
    private static readonly string[] Waits = ["0", "0", "-1", "abc", "1.5", "99999999999", "%00", "0x10"];

    private static readonly string[] Leases = ["", "", "", "not-a-guid", "0f8fad5b-d9cb-469f-a165-70867728950e", "00000000-0000-0000-0000-000000000000"];

    private readonly HashSet<(Guid Job, long Sequence)> storedChunks = [];
    private long sequence;
    private int proofs;
    private World? world;

    /// <summary>A valid message for each gateway operation, keyed "METHOD path" as the OpenAPI document lists it.</summary>
    private Dictionary<string, Func<World, int, Message>> Examples => new(StringComparer.Ordinal)
    {
        ["POST /agent/v1/enroll"] = (w, _) => new(HttpMethod.Post, "/agent/v1/enroll", Enrollment(w)),
        ["POST /agent/v1/identity"] = (w, _) => new(HttpMethod.Post, "/agent/v1/identity", JsonSerializer.SerializeToNode(new BindIdentityRequest(
            DeviceProof.ForBinding(w.Holder.AgentId, w.Holder.DeviceKey.ExportSubjectPublicKeyInfo(), "4C4C4544-0042-3010-8052-B4C04F383232",
                host.Now.AddMilliseconds(100 * Interlocked.Increment(ref proofs)), data => w.Holder.DeviceKey.SignData(data, HashAlgorithmName.SHA256))), AgentProtocol.JsonOptions)),
        ["POST /agent/v1/facts"] = (w, _) => new(HttpMethod.Post, "/agent/v1/facts", JsonSerializer.SerializeToNode(new DeviceFacts
        {
            DeviceName = w.Holder.DeviceName,
            OsVersion = "Windows 11 Enterprise 24H2",
            AgentVersion = "1.4.0",
            JoinType = DeviceJoinType.HybridEntraId,
            DomainName = "contoso.example",
            TenantId = "0f8fad5b-d9cb-469f-a165-70867728950e",
            EntraDeviceId = "7d1a4b6e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
            LoggedOnUsers = ["CONTOSO\\ann"],
            ProfileSids = ["S-1-5-21-1004336348-1177238915-682003330-1001"],
            FreeDiskSpaceBytes = 64_000_000_000,
        }, AgentProtocol.JsonOptions)),
        ["POST /agent/v1/poll"] = (_, v) => new(HttpMethod.Post, $"/agent/v1/poll?wait={Waits[v % Waits.Length]}"),
        ["POST /agent/v1/uninstalled"] = (_, _) => new(HttpMethod.Post, "/agent/v1/uninstalled",
            JsonSerializer.SerializeToNode(new UninstallReport { Removed = [UninstalledPart.Journals, UninstalledPart.DeviceKey] }, AgentProtocol.JsonOptions)),
        ["POST /agent/v1/jobs/{id}/progress"] = (w, v) => new(HttpMethod.Post, JobUrl(w, v, "progress"), JsonSerializer.SerializeToNode(new ProgressReport
        {
            LeaseToken = w.Job.LeaseToken,
            Step = "JoinDestination",
            StepNumber = 10,
            StepCount = 18,
            ItemsDone = 3,
            ItemsTotal = 7,
            ItemsChanged = 2,
            ItemsFailed = 1,
            Message = "Joining the destination\nsecond line",
            Items = [new ItemResult("C:\\Users\\ann\\file.txt", ItemOutcome.Failed, "Access is denied.")],
            Areas = [new AreaCount(ReaclArea.Files, 7, 2, 1, null)],
        }, AgentProtocol.JsonOptions)),
        ["POST /agent/v1/jobs/{id}/log"] = (w, v) => new(HttpMethod.Post, JobUrl(w, v, "log"), JsonSerializer.SerializeToNode(new LogChunk
        {
            LeaseToken = w.Job.LeaseToken,
            Sequence = Interlocked.Increment(ref sequence),
            Lines = [new LogLine(host.Now, "Information", "Step JoinDestination started"), new LogLine(host.Now, "Warning", "two\tcolumns\r\nand a line")],
        }, AgentProtocol.JsonOptions)),
        ["POST /agent/v1/jobs/{id}/sid-map"] = (w, v) => new(HttpMethod.Post, JobUrl(w, v, "sid-map"), JsonSerializer.SerializeToNode(
            new SidMapRequest(w.Job.LeaseToken, ["S-1-5-21-1004336348-1177238915-682003330-1001", "S-1-5-32-544"]), AgentProtocol.JsonOptions)),
        ["POST /agent/v1/jobs/{id}/directory-action"] = (w, v) => new(HttpMethod.Post, JobUrl(w, v, "directory-action"), JsonSerializer.SerializeToNode(new DirectoryActionRequest
        {
            LeaseToken = w.Job.LeaseToken,
            Action = DirectoryAction.ImportAutopilotDevice,
            SourceEntraDeviceId = "7d1a4b6e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
            SerialNumber = "SN-12345",
            HardwareHash = Convert.ToBase64String(new byte[64]),
        }, AgentProtocol.JsonOptions)),
        ["POST /agent/v1/jobs/{id}/return-ticket"] = (w, v) => new(HttpMethod.Post, JobUrl(w, v, "return-ticket"), JsonSerializer.SerializeToNode(
            new ReturnTicketRequest(w.Job.LeaseToken, w.Holder.DeviceName, DeviceJoinType.EntraId, null, "0f8fad5b-d9cb-469f-a165-70867728950e"), AgentProtocol.JsonOptions)),
        ["GET /agent/v1/jobs/{id}/package/{purpose}"] = (w, v) => new(HttpMethod.Get, JobUrl(w, v, "package/" + Purposes[v % Purposes.Length]),
            Lease: Leases[v % Leases.Length] is { Length: > 0 } lease ? lease : w.Job.LeaseToken.ToString()),
        // No package is current in this world: nothing to offer, and any package asked for is unknown.
        ["GET /agent/v1/update"] = (_, _) => new(HttpMethod.Get, "/agent/v1/update"),
        ["GET /agent/v1/update/{packageId}"] = (_, v) => new(HttpMethod.Get, $"/agent/v1/update/{(PackageIds[v % PackageIds.Length] is { Length: > 0 } id ? id : Guid.NewGuid().ToString())}"),
        ["POST /agent/v1/update/report"] = (_, _) => new(HttpMethod.Post, "/agent/v1/update/report", JsonSerializer.SerializeToNode(
            new AgentUpdateReport("1.4.0", "1.5.0", AgentUpdateOutcome.RolledBack, "The new version did not check in within 10 min."), AgentProtocol.JsonOptions)),
        ["POST /agent/v1/jobs/{id}/complete"] = (w, v) => new(HttpMethod.Post, JobUrl(w, v, "complete"), JsonSerializer.SerializeToNode(new CompletionReport
        {
            LeaseToken = w.Job.LeaseToken,
            Status = CompletionStatus.Exceptions,
            ItemsDone = 7,
            ItemsTotal = 7,
            ItemsChanged = 5,
            ItemsFailed = 2,
            Areas = [new AreaCount(ReaclArea.Files, 7, 5, 2, "Two files were locked")],
            ErrorCode = "items-failed",
            ErrorMessage = "2 items failed:\n\tC:\\a\n\tC:\\b",
        }, AgentProtocol.JsonOptions)),
    };

    private static string JobUrl(World w, int variant, string rest) =>
        $"/agent/v1/jobs/{(JobIds[variant % JobIds.Length] is { Length: > 0 } id ? id : w.Job.JobId.ToString())}/{rest}";

    /// <summary>A new device's enrollment with the holder's configuration key, signed with a key of its own.</summary>
    private JsonNode Enrollment(World w)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var device = "PC" + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant();
        return JsonSerializer.SerializeToNode(EnrollRequest.Signed(w.Holder.ConfigurationKey,
            new DeviceFacts { DeviceName = device, OsVersion = "Windows 11", AgentVersion = "1.4.0", LoggedOnUsers = ["CONTOSO\\bob"] },
            key, "4C4C4544-0042-3010-8052-B4C04F383232", host.Now), AgentProtocol.JsonOptions)!;
    }

    [Fact]
    public async Task Every_gateway_operation_has_a_valid_example_here()
    {
        var document = await host.Client.GetJsonAsync("/openapi/v1.json");
        var operations = document.GetProperty("paths").EnumerateObject().Where(p => p.Name.StartsWith("/agent/", StringComparison.Ordinal))
            .SelectMany(p => p.Value.EnumerateObject().Select(o => $"{o.Name.ToUpperInvariant()} {p.Name}")).ToList();

        Assert.Empty(operations.Except(Examples.Keys));
        Assert.Empty(Examples.Keys.Except(operations));
    }

    [Fact]
    public async Task Each_valid_example_from_the_lease_holder_is_answered_as_the_job_allows()
    {
        using var started = await NewWorldAsync();
        var w = started;
        var answers = new List<string>();
        foreach (var (operation, example) in Examples)
        {
            var message = example(w, 0);
            var response = await SendAsync(w.Holder.Agent, message, message.Body?.ToJsonString());
            answers.Add($"{operation}: {(int)response.StatusCode}");
            w = await FollowAsync(w, operation, response);
        }

        // A rejoin job holds no directory action; everything else works, the completion (last) too.
        Assert.Equal(Examples.Keys.Select(o => $"{o}: {ValidAnswers.GetValueOrDefault(o.Split('/')[^1], 200)}"), answers);
    }

    private static readonly Dictionary<string, int> ValidAnswers = new(StringComparer.Ordinal)
    {
        ["identity"] = 204,
        ["facts"] = 204,
        // An agent polls only with no job in hand: the holder's poll gets its own job again (under a new lease token).
        ["poll"] = 200,
        ["log"] = 204,
        ["complete"] = 204,
        ["directory-action"] = 409,
        // Nobody told these agents to uninstall: the confirmation is refused (UninstallNotRequested).
        ["uninstalled"] = 409,
        ["update"] = 204,
        ["{packageId}"] = 404,
        ["report"] = 204,
    };

    [Fact]
    public async Task Mutated_agent_messages_never_get_a_5xx_a_refusal_names_its_rule_and_changes_nothing_and_what_is_taken_is_stored_as_sent()
    {
        var operations = Examples.Keys.Order(StringComparer.Ordinal).ToArray();
        var callers = Gen.Frequency((6, Gen.Const(Caller.Holder)), (2, Gen.Const(Caller.OtherAgent)), (1, Gen.Const(Caller.WrongCredential)));
        var mutations = Gen.Frequency((1, Gen.Const((JsonMutation?)null)), (4, JsonMutation.Gen.Select(m => (JsonMutation?)m)));
        var cases = Gen.Select(Gen.Int[0, operations.Length - 1], mutations, callers, Gen.Int[0, 1000],
            (operation, mutation, caller, variant) => (Operation: operations[operation], Mutation: mutation, Caller: caller, Variant: variant));

        try
        {
            await cases.SampleAsync(async input =>
            {
                world ??= await NewWorldAsync();
                var message = Examples[input.Operation](world, input.Variant);
                var body = message.Body is null ? null : input.Mutation?.Apply(message.Body) ?? message.Body.ToJsonString();
                var client = input.Caller switch
                {
                    Caller.Holder => world.Holder.Agent,
                    Caller.OtherAgent => world.Other.Agent,
                    _ => world.WrongCredential,
                };
                var what = $"{input.Operation} from {input.Caller} at {message.Url} with {Shown(body)}";
                var before = await host.FingerprintAsync();
                var logged = host.Logs.Lines.Count;

                var response = await SendAsync(client, message, body);
                if (input.Caller == Caller.Holder)
                {
                    world = await FollowAsync(world, input.Operation, response);
                }

                var status = (int)response.StatusCode;
                if (status == 400 && message.Url.Contains("/%00/", StringComparison.Ordinal))
                {
                    // Kestrel refuses a path with a NUL itself, with a bare 400, before any of Rehome's code runs.
                    Assert.Equal(before, await host.FingerprintAsync());
                    return;
                }
                await AssertAnswerAsync(response, before, what);
                var aboutTheJob = input.Operation.Contains("/jobs/", StringComparison.Ordinal);
                Assert.True(status >= 400 || input.Caller == Caller.Holder || !aboutTheJob, $"{what}: {status} for a job this caller does not hold");
                Assert.True(status == 401 || input.Caller != Caller.WrongCredential || input.Operation.EndsWith("/enroll", StringComparison.Ordinal),
                    $"{what}: {status} with a wrong credential");
                AssertLogsClean(logged, what);
                if (status < 400 && (input.Caller == Caller.Holder || input.Operation.EndsWith("/enroll", StringComparison.Ordinal)))
                {
                    await AssertStoredAsSentAsync(input.Operation, world, body!, what);
                }
                if (status < 400 && input.Operation.EndsWith("/complete", StringComparison.Ordinal))
                {
                    // The job has ended: the next case gets a device holding a new lease.
                    world.Dispose();
                    world = null;
                }
            }, seed: Seed, iter: 250, threads: 1, print: input => $"{input.Operation} from {input.Caller}, variant {input.Variant}, with {input.Mutation?.ToString() ?? "no mutation"}");
        }
        finally
        {
            world?.Dispose();
            world = null;
        }
    }

    /// <summary>The seed of the generated cases (each provider its own, so the two runs cover different cases).</summary>
    protected abstract string Seed { get; }

    /// <summary>
    /// <see cref="ApiBodyProperties.AssertAnswerAsync"/>, and more: every refusal (401 and 409 too) is problem+json
    /// with the rule it broke.
    /// </summary>
    private async Task AssertAnswerAsync(HttpResponseMessage response, string before, string what)
    {
        await ApiBodyProperties.AssertAnswerAsync(response, before, what, host.FingerprintAsync);
        if ((int)response.StatusCode >= 400)
        {
            var answer = await response.Content.ReadAsStringAsync();
            Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{what}: a refusal that is not problem+json: {answer}");
            using var problem = JsonDocument.Parse(answer);
            Assert.True(problem.RootElement.TryGetProperty("rule", out var rule) && rule.GetString() is { Length: > 0 }, $"{what}: a refusal that names no rule: {answer}");
        }
    }

    /// <summary>No log line written meanwhile holds a character that rewrites a terminal (line breaks only inside a message the server wrote).</summary>
    private void AssertLogsClean(int from, string what)
    {
        foreach (var line in host.Logs.Lines.Skip(from))
        {
            Assert.True(TextRules.IndexOfRefused(line, multiLine: true) < 0, $"{what}: a log line holds a control character: {TextRules.Neutralise(line)}");
            Assert.DoesNotContain("two\nlines", line, StringComparison.Ordinal);
            Assert.DoesNotContain("tab\there", line, StringComparison.Ordinal);
        }
    }

    /// <summary>What the store holds after an accepted message is what the message said.</summary>
    private async Task AssertStoredAsSentAsync(string operation, World w, string body, string what)
    {
        await using var scope = host.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        switch (operation.Split('/')[^1])
        {
            case "enroll":
                var enrollment = JsonSerializer.Deserialize<EnrollRequest>(body, AgentProtocol.JsonOptions)!;
                var enrolled = await db.Agents.AsNoTracking().Where(a => a.DeviceName == enrollment.Device.DeviceName.Trim()).ToListAsync();
                var agent = Assert.Single(enrolled);
                AssertFacts(enrollment.Device, agent, what);
                break;
            case "facts":
                var facts = JsonSerializer.Deserialize<DeviceFacts>(body, AgentProtocol.JsonOptions)!;
                AssertFacts(facts, await db.Agents.AsNoTracking().SingleAsync(a => a.Id == w.Holder.AgentId), what);
                break;
            case "progress":
                var report = JsonSerializer.Deserialize<ProgressReport>(body, AgentProtocol.JsonOptions)!;
                var job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == w.Job.JobId);
                Assert.True((report.Step, report.ItemsDone, report.ItemsTotal, report.ItemsChanged, report.ItemsFailed)
                    == (job.Step, job.ItemsDone, job.ItemsTotal, job.ItemsChanged, job.ItemsFailed), $"{what}: stored {job.Step} {job.ItemsDone}/{job.ItemsTotal}");
                Assert.True(report.Message is null || report.Message == job.Message, $"{what}: stored the message {job.Message}");
                break;
            case "log":
                var chunk = JsonSerializer.Deserialize<LogChunk>(body, AgentProtocol.JsonOptions)!;
                var lines = await db.JobLogLines.AsNoTracking().Where(l => l.JobId == w.Job.JobId && l.Sequence == chunk.Sequence).OrderBy(l => l.LineNumber).ToListAsync();
                // A chunk whose sequence was taken before is a resend, stored once by design.
                if (!storedChunks.Add((w.Job.JobId, chunk.Sequence)))
                {
                    break;
                }
                Assert.Equal(chunk.Lines.Select(l => (l.At.ToUnixTimeMilliseconds(), l.Level, l.Text)), lines.Select(l => (l.At.ToUnixTimeMilliseconds(), l.Level, l.Text)));
                break;
            case "complete":
                var completion = JsonSerializer.Deserialize<CompletionReport>(body, AgentProtocol.JsonOptions)!;
                var ended = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == w.Job.JobId);
                Assert.True((completion.Status.ToString(), completion.ErrorCode, completion.ErrorMessage) == (ended.Status.ToString(), ended.ErrorCode, ended.ErrorMessage),
                    $"{what}: stored {ended.Status} {ended.ErrorCode} {ended.ErrorMessage}");
                break;
            case "report":
                var update = JsonSerializer.Deserialize<AgentUpdateReport>(body, AgentProtocol.JsonOptions)!;
                var reported = await db.Agents.AsNoTracking().SingleAsync(a => a.Id == w.Holder.AgentId);
                var shown = $"{update.FromVersion} → {update.ToVersion}" + (update.Message is { Length: > 0 } m ? ": " + m : "");
                Assert.True((update.Outcome.ToString(), shown) == (reported.UpdateOutcome, reported.UpdateMessage),
                    $"{what}: stored {reported.UpdateOutcome} {reported.UpdateMessage}");
                break;
            default:
                break;
        }
    }

    private static void AssertFacts(DeviceFacts sent, Core.Agents.DeviceAgent stored, string what)
    {
        Assert.True(Enum.IsDefined(sent.JoinType), $"{what}: the join type {(int)sent.JoinType} was taken, which is none of {string.Join(", ", Enum.GetNames<DeviceJoinType>())}");
        Assert.Equal(
            (sent.OsVersion ?? "", sent.AgentVersion ?? "", sent.JoinType.ToString(), sent.DomainName, sent.TenantId, sent.EntraDeviceId,
                string.Join(",", sent.LoggedOnUsers ?? []), string.Join(",", sent.ProfileSids ?? []), sent.FreeDiskSpaceBytes),
            (stored.OsVersion, stored.AgentVersion, stored.JoinType, stored.DomainName, stored.TenantId, stored.EntraDeviceId,
                stored.LoggedOnUsers, stored.ProfileSids, stored.FreeDiskSpaceBytes));
    }

    private async Task<World> NewWorldAsync()
    {
        var holder = await host.EnrollDeviceAsync(AgentWorld.EntraDestination(), source: new { domainDnsName = "contoso.example" });
        await host.Client.UploadPackageAsync(holder.DestinationId, Encoding.UTF8.GetBytes("PKG-" + Guid.NewGuid().ToString("N")));
        var job = await host.RunAndPollAsync(holder, "RejoinDomain");
        var other = await host.EnrollDeviceAsync(AgentWorld.EntraDestination());
        return new World(holder, job, other, host.AgentClient($"{AgentProtocol.CredentialPrefix}{holder.AgentId:N}.wrong-secret"));
    }

    private static string Shown(string? text) => text is null ? "no body" : text.Length > 300 ? text[..300] + $"… ({text.Length} characters)" : text;

    /// <summary>The holder's poll answers its job again, under a new lease token (its answer counts as lost): the world follows it.</summary>
    private static async Task<World> FollowAsync(World w, string operation, HttpResponseMessage response) =>
        operation.EndsWith("/poll", StringComparison.Ordinal) && response.StatusCode == HttpStatusCode.OK
            && await response.Content.ReadFromJsonAsync<JobAssignment>(AgentProtocol.JsonOptions) is { } again && again.JobId == w.Job.JobId
            ? w with { Job = again }
            : w;

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, Message message, string? body)
    {
        try
        {
            return await SendOnceAsync(client, message, body, waitForContinue: false);
        }
        catch (HttpRequestException e) when (body is { Length: > 64 * 1024 } && e.InnerException is IOException)
        {
            // The server answered before reading a large body (a refusal needs none of it) and closed the connection
            // while the client was still writing it: asked again, the client waits for the server's 100 Continue before
            // it writes the body, and reads the answer the server gave.
            return await SendOnceAsync(client, message, body, waitForContinue: true);
        }
    }

    private static async Task<HttpResponseMessage> SendOnceAsync(HttpClient client, Message message, string? body, bool waitForContinue)
    {
        using var request = new HttpRequestMessage(message.Method, new Uri(message.Url, UriKind.Relative));
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        if (message.Lease is not null)
        {
            request.Headers.Add(AgentProtocol.LeaseHeader, message.Lease);
        }
        request.Headers.ExpectContinue = waitForContinue ? true : null;
        var response = await client.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }
}

public sealed class AgentMessagePropertiesOnSqlite(BadInputSqliteServer server) : AgentMessageProperties(server.Host), IClassFixture<BadInputSqliteServer>
{
    protected override string Seed => "000000000041";
}

public sealed class AgentMessagePropertiesOnPostgres(BadInputPostgresServer server) : AgentMessageProperties(server.Host), IClassFixture<BadInputPostgresServer>
{
    protected override string Seed => "000000000042";
}
