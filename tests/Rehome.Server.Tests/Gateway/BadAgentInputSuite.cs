using System.Net;
using System.Net.Http.Json;
using System.Text;
using Rehome.Protocol;
using Rehome.Server.Tests.Api;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Gateway;

/// <summary>
/// What an agent sends is untrusted like everything else: bad messages get a 400 naming the field, on SQLite and
/// PostgreSQL, and nothing unprintable is stored for an administrator to read later.
/// </summary>
public abstract class BadAgentInputSuite(ServerHost host)
{
    private static async Task<HttpResponseMessage> PostRawAsync(HttpClient agent, string url, string json) =>
        await agent.PostAsync(new Uri(url, UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"));

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string field, string rule)
    {
        var problem = await response.JsonAsync(HttpStatusCode.BadRequest);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = problem.GetProperty("errors").EnumerateArray().ToList();
        Assert.True(errors.Any(e => e.GetProperty("field").GetString() == field && e.GetProperty("rule").GetString() == rule),
            $"Expected an error on {field} ({rule}), got: {problem}");
    }

    private async Task<(EnrolledDevice Device, JobAssignment Job)> LeasedJobAsync()
    {
        var device = await host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"), source: new { domainDnsName = "contoso.example" });
        return (device, await host.RunAndPollAsync(device, "RejoinDomain"));
    }

    [Fact]
    public async Task A_log_line_without_text_is_refused_naming_the_line()
    {
        var (device, job) = await LeasedJobAsync();
        using var _ = device;

        var response = await PostRawAsync(device.Agent, $"/agent/v1/jobs/{job.JobId}/log",
            $"{{\"leaseToken\": \"{job.LeaseToken}\", \"sequence\": 0, \"lines\": [{{\"at\": \"2026-11-28T09:00:00Z\", \"level\": \"Information\", \"text\": null}}]}}");

        await AssertRefusedAsync(response, "lines[0].text", "Required");
    }

    [Theory]
    [InlineData("NUL\u0000here")]
    [InlineData("\u001b]0;owned\u0007\u001b[2J")]
    [InlineData("bidi \u202Eexe.txt")]
    public async Task A_log_line_with_a_control_or_bidi_character_is_refused_and_not_stored(string text)
    {
        var (device, job) = await LeasedJobAsync();
        using var _ = device;
        var chunk = new LogChunk { LeaseToken = job.LeaseToken, Sequence = 0, Lines = [new LogLine(DateTimeOffset.UnixEpoch, "Information", "fine\r\n\tmulti-line"), new LogLine(DateTimeOffset.UnixEpoch, "Warning", text)] };

        var response = await device.Agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/log", chunk, AgentProtocol.JsonOptions);

        await AssertRefusedAsync(response, "lines[1].text", "ControlCharacter");
        var report = await host.Client.GetJsonAsync($"/api/v1/mappings/{device.MappingId}/report");
        Assert.DoesNotContain(text, report.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_progress_report_with_a_bad_log_line_is_refused_naming_it_and_renews_nothing()
    {
        var (device, job) = await LeasedJobAsync();
        using var _ = device;
        var report = new ProgressReport
        {
            LeaseToken = job.LeaseToken,
            Step = "LeaveSource",
            LogLines = [new LogLine(DateTimeOffset.UnixEpoch, "Information", "fine"), new LogLine(DateTimeOffset.UnixEpoch, "Shouting", "bidi \u202Eexe.txt")],
        };

        var response = await device.Agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/progress", report, AgentProtocol.JsonOptions);

        await AssertRefusedAsync(response, "logLines[1].level", "UnknownLevel");
        await AssertRefusedAsync(await device.Agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/progress", report, AgentProtocol.JsonOptions),
            "logLines[1].text", "ControlCharacter");
        var stored = await host.Client.GetJsonAsync($"/api/v1/mappings/{device.MappingId}/report");
        Assert.DoesNotContain("exe.txt", stored.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("LeaveSource", stored.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Device_facts_with_escape_sequences_or_bidi_overrides_are_refused()
    {
        var (device, _) = await LeasedJobAsync();
        using var __ = device;

        var escape = await device.Agent.PostAsJsonAsync("/agent/v1/facts",
            new DeviceFacts { DeviceName = device.DeviceName, OsVersion = "Windows 11\u001b]8;;http://evil.example\u0007", AgentVersion = "1" }, AgentProtocol.JsonOptions);
        var bidi = await device.Agent.PostAsJsonAsync("/agent/v1/facts",
            new DeviceFacts { DeviceName = device.DeviceName, OsVersion = "Windows 11", AgentVersion = "1", LoggedOnUsers = ["CONTOSO\\\u202Enimda"] }, AgentProtocol.JsonOptions);

        await AssertRefusedAsync(escape, "device.osVersion", "ControlCharacter");
        await AssertRefusedAsync(bidi, "device.loggedOnUsers[0]", "ControlCharacter");
        var agents = await host.Client.GetJsonAsync($"/api/v1/agents?search={device.DeviceName}");
        Assert.Equal("Windows 11", agents.GetProperty("items")[0].GetProperty("osVersion").GetString());
    }

    [Fact]
    public async Task Enrollment_with_a_bidi_override_in_the_device_name_is_refused()
    {
        var source = await host.Client.PostJsonAsync("/api/v1/connections", new { name = ApiClient.Unique("src"), role = "Source", kind = "HybridIdentity" });
        var key = source.GetProperty("configurationKey").GetString()!;

        var response = await host.Anonymous.PostAsJsonAsync("/agent/v1/enroll",
            new EnrollRequest(key, new DeviceFacts { DeviceName = "PC\u202E10", OsVersion = "Windows 11", AgentVersion = "1" }), AgentProtocol.JsonOptions);

        await AssertRefusedAsync(response, "device.deviceName", "ControlCharacter");
    }

    [Fact]
    public async Task Progress_with_more_items_done_than_in_total_is_refused()
    {
        var (device, job) = await LeasedJobAsync();
        using var _ = device;

        var response = await device.Agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/progress",
            new ProgressReport { LeaseToken = job.LeaseToken, Step = "PrepareJoin", ItemsDone = 11, ItemsTotal = 10 }, AgentProtocol.JsonOptions);

        await AssertRefusedAsync(response, "itemsDone", "MoreThanTotal");
    }

    [Fact]
    public async Task Progress_without_its_step_names_the_missing_field_and_progress_with_null_items_is_taken()
    {
        var (device, job) = await LeasedJobAsync();
        using var _ = device;

        var missing = await PostRawAsync(device.Agent, $"/agent/v1/jobs/{job.JobId}/progress", $"{{\"leaseToken\": \"{job.LeaseToken}\"}}");
        var nullItems = await PostRawAsync(device.Agent, $"/agent/v1/jobs/{job.JobId}/progress",
            $"{{\"leaseToken\": \"{job.LeaseToken}\", \"step\": \"PrepareJoin\", \"items\": null}}");

        await AssertRefusedAsync(missing, "step", "Required");
        Assert.Equal(HttpStatusCode.OK, nullItems.StatusCode);
    }

    [Theory]
    [InlineData("[{\"area\": 99, \"seen\": 1, \"changed\": 0, \"failed\": 0}]", "areas[0].area", "UnknownArea")]
    [InlineData("[{\"area\": \"Files\", \"seen\": 1, \"changed\": 0, \"failed\": 0}, {\"area\": \"Files\", \"seen\": 2, \"changed\": 0, \"failed\": 0}]", "areas[1].area", "Duplicate")]
    [InlineData("[{\"area\": \"Shares\", \"seen\": 1, \"changed\": -1, \"failed\": 0}]", "areas[0]", "Negative")]
    [InlineData("[null]", "areas[0].area", "UnknownArea")]
    public async Task Progress_with_a_bad_area_count_is_refused_naming_the_area(string areas, string field, string rule)
    {
        var (device, job) = await LeasedJobAsync();
        using var _ = device;

        var response = await PostRawAsync(device.Agent, $"/agent/v1/jobs/{job.JobId}/progress",
            $"{{\"leaseToken\": \"{job.LeaseToken}\", \"step\": \"PrepareJoin\", \"areas\": {areas}}}");

        await AssertRefusedAsync(response, field, rule);
    }

    [Fact]
    public async Task Progress_with_more_area_counts_than_areas_is_refused()
    {
        var (device, job) = await LeasedJobAsync();
        using var _ = device;
        var areas = Enumerable.Range(0, AreaCount.MaxAreas + 1).Select(i => new AreaCount(ReaclArea.Files, i, 0, 0)).ToList();

        var response = await device.Agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/progress",
            new ProgressReport { LeaseToken = job.LeaseToken, Step = "PrepareJoin", Areas = areas }, AgentProtocol.JsonOptions);

        await AssertRefusedAsync(response, "areas", "TooMany");
    }

    [Fact]
    public async Task A_completion_whose_area_problem_holds_an_escape_sequence_is_refused_and_not_stored()
    {
        var (device, job) = await LeasedJobAsync();
        using var _ = device;
        var problem = "cannot\u001b]0;owned\u0007 do it";

        var response = await device.Agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/complete",
            new CompletionReport { LeaseToken = job.LeaseToken, Status = CompletionStatus.Finished, Areas = [new AreaCount(ReaclArea.Printers, 0, 0, 0, problem)] },
            AgentProtocol.JsonOptions);

        await AssertRefusedAsync(response, "areas[0].problem", "ControlCharacter");
        var stored = await host.Client.GetJsonAsync($"/api/v1/jobs/{job.JobId}");
        Assert.Equal("InProgress", stored.GetProperty("status").GetString());
        Assert.Equal(0, stored.GetProperty("areas").GetArrayLength());
    }

    [Fact]
    public async Task A_completion_with_an_escape_sequence_in_its_error_is_refused()
    {
        var (device, job) = await LeasedJobAsync();
        using var _ = device;

        var response = await device.Agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/complete",
            new CompletionReport { LeaseToken = job.LeaseToken, Status = CompletionStatus.Failed, ErrorCode = "x", ErrorMessage = "failed\u001b[8m hidden" },
            AgentProtocol.JsonOptions);

        await AssertRefusedAsync(response, "errorMessage", "ControlCharacter");
        var stored = await host.Client.GetJsonAsync($"/api/v1/jobs/{job.JobId}");
        Assert.Equal("InProgress", stored.GetProperty("status").GetString());
    }
}

public sealed class BadAgentInputOnSqlite(BadInputSqliteServer server) : BadAgentInputSuite(server.Host), IClassFixture<BadInputSqliteServer>;

public sealed class BadAgentInputOnPostgres(BadInputPostgresServer server) : BadAgentInputSuite(server.Host), IClassFixture<BadInputPostgresServer>;
