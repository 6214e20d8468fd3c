using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Xunit.Abstractions;

namespace Rehome.Fault.Tests;

/// <summary>The database server stopped mid-run and started again: the servers say so, the agents wait, nothing is lost.</summary>
public sealed class StoreOutageFaultTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task PostgreSQL_stopped_for_30_seconds_mid_run_answers_503_with_a_reason_and_everything_resumes_by_itself()
    {
        var devices = FaultWorld.Devices(inCi: 100);
        await using var world = await FaultWorld.StartAsync(output, replicas: 2, devices);
        var runId = await world.StartRunUnderWayAsync();

        var requestsBefore = (await world.FleetSnapshotAsync()).Devices!.Select(d => d.Requests).ToList();
        var outage = Stopwatch.StartNew();
        await FaultPostgres.StopAsync();
        HttpResponseMessage[] answers;
        try
        {
            answers = await Task.WhenAll(world.Servers.Select(s => GetRunAsync(s, world.Token, runId)));
            // The rest of the outage, for the agents to meet it: a fault's length, not a wait for something to happen.
            await Task.Delay(Outage - outage.Elapsed);
        }
        finally
        {
            await FaultPostgres.StartAsync();
        }
        // Counted before the outage's length is read, so the length covers every request counted.
        var requestsDuring = (await world.FleetSnapshotAsync()).Devices!.Select((d, i) => d.Requests - requestsBefore[i]).ToList();
        var seconds = outage.Elapsed.TotalSeconds;
        var jobs = await world.WaitForRunAsync(runId, TimeSpan.FromMinutes(10));

        foreach (var answer in answers)
        {
            var body = await answer.Content.ReadAsStringAsync();
            Assert.True(answer.StatusCode == HttpStatusCode.ServiceUnavailable, $"{answer.RequestMessage!.RequestUri}: {(int)answer.StatusCode} {body}");
            Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(answer.Headers.RetryAfter);
            using var problem = JsonDocument.Parse(body);
            Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.GetProperty("detail").GetString()), body);
            answer.Dispose();
        }
        // The agents back off: none calls more than once a second while the store is away (a spinning one would
        // call thousands of times).
        output.WriteLine($"requests per device during the {seconds:F0} s outage: at most {requestsDuring.Max()}, {requestsDuring.Average():F1} on average");
        Assert.All(requestsDuring, n => Assert.True(n <= seconds, $"a device called {n} times in {seconds:F0} s"));
        await world.AssertEveryJobFinishedOnceAsync(jobs, maxAttempts: 2);
    }

    private static async Task<HttpResponseMessage> GetRunAsync(ServerProcess server, string token, Guid runId)
    {
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(20) };
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/api/v1/runs/{runId}", UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var answer = await http.SendAsync(request);
        await answer.Content.LoadIntoBufferAsync();
        return answer;
    }
}
