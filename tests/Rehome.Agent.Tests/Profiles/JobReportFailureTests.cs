using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Rehome.Agent.Jobs;
using Rehome.Agent.Platform.Simulated;
using Rehome.Protocol;

namespace Rehome.Agent.Tests.Profiles;

/// <summary>
/// Reports the server does not take, through the real runner against a <see cref="Rejoin.FakeGateway"/>: a report
/// that fails under a busy server's slow pace is tried again at the agent's own, and item results refused at the end
/// are dropped with a warning rather than keeping the job from being completed.
/// </summary>
public sealed class JobReportFailureTests
{
    [Fact]
    public async Task A_report_that_fails_under_a_servers_slow_pace_is_tried_again_at_the_agents_own_pace()
    {
        // The owner stays signed in: the job waits for them as long as the fake clock says, and the clock moves only here.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 9, 0, 0, TimeSpan.Zero));
        using var device = new ProfileDevice(loggedOn: true, time);
        device.Gateway.ReportSeconds = 60;
        var reportedAt = new DateTimeOffset[3];
        var reports = 0;
        var retried = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        device.Gateway.AnswerProgress = _ =>
        {
            var report = Interlocked.Increment(ref reports);
            if (report <= reportedAt.Length)
            {
                reportedAt[report - 1] = time.GetUtcNow();
            }
            switch (report)
            {
                case 2:
                    // The server is too busy for the second report (its store lane is full).
                    return new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
                case 3:
                    retried.TrySetResult();
                    break;
            }
            return null;
        };

        var running = device.StartAsync();
        try
        {
            // The first report hears the server's pace of a minute; the clock moves until the next report, which fails.
            await AdvanceUntilAsync(time, () => Volatile.Read(ref reports) >= 2, TimeSpan.FromSeconds(10), running);
            Assert.True(reportedAt[1] - reportedAt[0] >= TimeSpan.FromSeconds(60), "The second report waited for the server's pace.");

            // The clock stands still from here: only the agent's own pace (seconds, not the server's minute) brings the next try.
            var next = await Task.WhenAny(retried.Task, Task.Delay(TimeSpan.FromSeconds(30)));

            Assert.True(next == retried.Task, "No report followed the failed one: the agent waited out the server's pace of 60 s.");
            Assert.True(reportedAt[2] - reportedAt[1] < TimeSpan.FromSeconds(60), $"The next try came {reportedAt[2] - reportedAt[1]} after the failed report.");
        }
        finally
        {
            await PastTheOwnersWaitAsync(time, running);
        }
        Assert.Equal(JobOutcome.Completed, await running.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    /// <summary>
    /// A report the busy server answers 40 s late: the next comes a server's pace after the late one was sent, not a
    /// pace after its answer (the lease covers four paces from the last renewal, and a late answer used to eat one).
    /// </summary>
    [Fact]
    public async Task The_servers_pace_counts_from_when_a_report_was_sent_not_from_its_late_answer()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 9, 0, 0, TimeSpan.Zero));
        using var device = new ProfileDevice(loggedOn: true, time);
        device.Gateway.ReportSeconds = 60;
        var reportedAt = new DateTimeOffset[3];
        var reports = 0;
        device.Gateway.AnswerProgress = _ =>
        {
            var report = Interlocked.Increment(ref reports);
            if (report <= reportedAt.Length)
            {
                reportedAt[report - 1] = time.GetUtcNow();
            }
            if (report == 2)
            {
                // This one waits 40 s in the server before its answer.
                time.Advance(TimeSpan.FromSeconds(40));
            }
            return null;
        };

        var running = device.StartAsync();
        try
        {
            // Small steps: a report's time is read when it arrives, a step or more after the runner's wait ended.
            await AdvanceUntilAsync(time, () => Volatile.Read(ref reports) >= 3, TimeSpan.FromSeconds(1), running);
            Assert.True(reportedAt[1] - reportedAt[0] >= TimeSpan.FromSeconds(60), "The second report waited for the server's pace.");
            var apart = reportedAt[2] - reportedAt[1];
            Assert.True(apart >= TimeSpan.FromSeconds(60) && apart < TimeSpan.FromSeconds(95), $"The third report came {apart} after the second was sent (asked: 60 s; 100 s before the fix).");
        }
        finally
        {
            await PastTheOwnersWaitAsync(time, running);
        }
        Assert.Equal(JobOutcome.Completed, await running.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Item_results_the_server_refuses_at_the_end_do_not_keep_the_job_from_being_completed()
    {
        // A busy server's pace: the whole job runs inside one wait, and its item results go up after the steps.
        using var device = new ProfileDevice();
        device.Gateway.ReportSeconds = 60;
        var refused = 0;
        device.Gateway.AnswerProgress = report =>
        {
            if (report.Items is not { Count: > 0 })
            {
                return null;
            }
            Interlocked.Add(ref refused, report.Items.Count);
            return new HttpResponseMessage(HttpStatusCode.UnprocessableEntity)
            {
                Content = new StringContent(
                    """{"type":"https://rehome.dev/problems/bad-agent-input","title":"A field is not valid","status":422,"field":"items[0].item"}""",
                    Encoding.UTF8, "application/problem+json"),
            };
        };

        var completion = await device.RunAsync();

        Assert.Equal(CompletionStatus.Finished, completion.Status);
        Assert.True(refused > 0, "The job had item results for the server to refuse.");
        Assert.Empty(device.Gateway.ReportedItems);
        var calls = device.Gateway.Calls.ToList();
        Assert.Equal("complete", calls.Last(c => c is "progress" or "complete"));
        Assert.Contains("The server refused the last item results", device.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Item_results_the_server_refuses_while_the_job_runs_are_offered_once_and_the_report_goes_on_without_them()
    {
        // At the agent's own pace item results go up with the reports made while the job runs: the report at the start
        // of the last step (after the step that reports what is not carried over) comes while that step is held;
        // otherwise the steps may all be over before the report loop looks.
        using var device = new ProfileDevice(faults: new SimulatedFaults { SlowStep = "UnlockSession", SlowSeconds = 3 });
        var offered = new List<ItemResult>();
        var accepted = 0;
        device.Gateway.AnswerProgress = report =>
        {
            if (report.Items is not { Count: > 0 } items)
            {
                Interlocked.Increment(ref accepted);
                return null;
            }
            lock (offered)
            {
                offered.AddRange(items);
            }
            return new HttpResponseMessage(HttpStatusCode.BadRequest)
            {
                Content = new StringContent(
                    """{"type":"https://rehome.dev/problems/validation","title":"Invalid request","status":400,"errors":[{"field":"items[0].item","rule":"Invalid","message":"Item result 0 needs an item and an outcome."}]}""",
                    Encoding.UTF8, "application/problem+json"),
            };
        };

        var completion = await device.RunAsync();

        Assert.Equal(CompletionStatus.Finished, completion.Status);
        Assert.NotEmpty(offered);
        // Handed back after a refusal, an item would ride on every later report (and keep the lease from being renewed).
        Assert.Equal(offered.Count, offered.Distinct().Count());
        Assert.True(accepted > 0, "No report without the refused items renewed the lease.");
        Assert.Contains("item result(s)", device.Log, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"status":400,"errors":[{"field":"items[0].item"},{"field":"items[7].error"}]}""", true)]
    [InlineData("""{"status":400,"errors":[{"field":"items"}]}""", true)]
    [InlineData("""{"status":400,"errors":[{"field":"items[0].item"},{"field":"step"}]}""", false)]
    [InlineData("""{"status":400,"errors":[{"field":"itemsDone"}]}""", false)]
    [InlineData("""{"status":400,"errors":[]}""", false)]
    [InlineData("""{"status":413,"title":"Too large"}""", false)]
    [InlineData("not json", false)]
    public void Only_a_refusal_whose_every_error_names_the_items_lets_the_agent_drop_them(string problem, bool onlyItems) =>
        Assert.Equal(onlyItems, new Polling.GatewayRejectedException(HttpStatusCode.BadRequest, problem).NamesOnly("items"));

    [Fact]
    public void A_busy_answer_or_a_network_failure_as_the_report_loop_is_told_to_stop_is_a_failure_for_now_and_only_its_own_cancellation_is_not()
    {
        using var stopped = new CancellationTokenSource();
        stopped.Cancel();
        var busy = new Polling.ServerBusyException(503, null);
        var timedOut = new TaskCanceledException("the client's timeout");

        // The 503 that came as the steps ended: the loop must not let it end the agent.
        Assert.True(JobRunner.FailedForNow(busy, stopped.Token));
        Assert.True(JobRunner.FailedForNow(new HttpRequestException("reset"), stopped.Token));
        Assert.True(JobRunner.FailedForNow(busy, CancellationToken.None));
        Assert.True(JobRunner.FailedForNow(timedOut, CancellationToken.None));
        // The loop's own stop, and anything else, are not.
        Assert.False(JobRunner.FailedForNow(timedOut, stopped.Token));
        Assert.False(JobRunner.FailedForNow(new OperationCanceledException(stopped.Token), stopped.Token));
        Assert.False(JobRunner.FailedForNow(new InvalidOperationException(), CancellationToken.None));
    }

    /// <summary>Moves the fake clock a step at a time, letting the runner act between, until <paramref name="done"/> (ten minutes at most).</summary>
    private static async Task AdvanceUntilAsync(FakeTimeProvider time, Func<bool> done, TimeSpan step, Task running)
    {
        for (var moved = TimeSpan.Zero; !done() && moved < TimeSpan.FromMinutes(10); moved += step)
        {
            Assert.False(running.IsCompleted, "The job ended before the report the test waits for.");
            time.Advance(step);
            await Task.Delay(10);
        }
        Assert.True(done(), "The paced agent never made the report the test waits for.");
    }

    /// <summary>The owner never signs out: past the job's wait for them it ends, and the runner with it.</summary>
    private static async Task PastTheOwnersWaitAsync(FakeTimeProvider time, Task running)
    {
        for (var moved = TimeSpan.Zero; !running.IsCompleted && moved < TimeSpan.FromHours(2); moved += TimeSpan.FromMinutes(1))
        {
            time.Advance(TimeSpan.FromMinutes(1));
            await Task.Delay(10);
        }
    }
}
