using System.Collections.Concurrent;
using System.Net;
using Rehome.Agent.Polling;
using Rehome.Protocol;

namespace Rehome.Agent.Tests.Rejoin;

/// <summary>
/// An agent started with a job its journal left running (the rejoin that restarted the device) keeps that job's lease
/// while its check-in waits for a busy server, so the job is not leased again meanwhile.
/// </summary>
public sealed class RestartCheckInTests
{
    [Fact]
    public async Task A_restarted_agent_renews_its_running_jobs_lease_at_the_asked_pace_while_the_server_is_too_busy_for_its_check_in()
    {
        using var device = new RejoinDevice(RejoinDevice.ActiveDirectoryOffline);
        // Slower than the agent's own pace (5 s): the renewals before the check-in keep the pace the server asks.
        device.Gateway.ReportSeconds = 7;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var renewals = new ConcurrentQueue<(Guid Token, long At, bool CheckedIn)>();
        BusyCheckIn? server = null;
        device.Gateway.AnswerProgress = report =>
        {
            renewals.Enqueue((report.LeaseToken, Environment.TickCount64, server!.CheckedIn));
            if (server.CheckedIn)
            {
                // The resume's own renewal, after the check-in: enough seen.
                stop.Cancel();
            }
            return null;
        };
        // The check-in is answered only once the lease was renewed twice: an agent that waited for the check-in before
        // renewing would never be answered.
        server = new BusyCheckIn(device.Gateway, () => renewals.Count >= 2);

        await device.RunAgentAsync(server, stop.Token);

        Assert.True(server.CheckedIn, $"the check-in was never answered: {renewals.Count} renewals in 90 s");
        Assert.True(server.BusyAnswers > 0);
        var before = renewals.Where(r => !r.CheckedIn).ToList();
        Assert.True(before.Count >= 2);
        Assert.All(renewals, r => Assert.Equal(device.Assignment.LeaseToken, r.Token));
        Assert.True(before[1].At - before[0].At >= 6_900, $"renewed {before[1].At - before[0].At} ms apart; the server asked 7 s");
    }

    /// <summary>
    /// A check-in the server neither answers nor turns away (queued behind other work): the lease is renewed once the
    /// agent's own pace has passed, not only after a failure; the held check-in is answered after that renewal.
    /// </summary>
    [Fact]
    public async Task A_restarted_agent_whose_check_in_waits_unanswered_renews_its_running_jobs_lease_meanwhile()
    {
        using var device = new RejoinDevice(RejoinDevice.ActiveDirectoryOffline);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var renewals = new ConcurrentQueue<bool>();
        BusyCheckIn? server = null;
        device.Gateway.AnswerProgress = report =>
        {
            renewals.Enqueue(server!.CheckedIn);
            if (server.CheckedIn)
            {
                stop.Cancel();
            }
            return null;
        };
        server = new BusyCheckIn(device.Gateway, () => !renewals.IsEmpty, holds: true);

        await device.RunAgentAsync(server, stop.Token);

        Assert.True(server.CheckedIn, "the held check-in was never answered: no renewal came while it waited");
        Assert.Equal(0, server.BusyAnswers);
        Assert.False(renewals.First());
    }

    [Theory]
    [InlineData(HttpStatusCode.NoContent)]
    [InlineData(HttpStatusCode.BadRequest)]
    public async Task A_check_in_answered_at_once_or_refused_for_good_renews_nothing_before_it(HttpStatusCode answer)
    {
        using var device = new RejoinDevice(RejoinDevice.ActiveDirectoryOffline);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var renewalsBeforeCheckIn = 0;
        BusyCheckIn? server = null;
        device.Gateway.AnswerProgress = _ =>
        {
            if (!server!.CheckedIn)
            {
                Interlocked.Increment(ref renewalsBeforeCheckIn);
            }
            stop.Cancel();
            return null;
        };
        server = new BusyCheckIn(device.Gateway, () => true, answer);

        var run = device.RunAgentAsync(server, stop.Token);

        if (answer == HttpStatusCode.BadRequest)
        {
            // Refused for good: the runtime ends (its supervisor starts another), and the lease is left to lapse.
            await Assert.ThrowsAsync<GatewayRejectedException>(() => run);
        }
        else
        {
            await run;
            Assert.True(server.CheckedIn);
        }
        Assert.Equal(0, renewalsBeforeCheckIn);
    }

    /// <summary>
    /// Answers the check-in 503 until <paramref name="answerWhen"/> holds (or, when it <paramref name="holds"/>, holds it
    /// unanswered until then), then with <paramref name="answer"/>; the rest goes to the fake gateway.
    /// </summary>
    private sealed class BusyCheckIn(FakeGateway gateway, Func<bool> answerWhen, HttpStatusCode answer = HttpStatusCode.NoContent, bool holds = false)
        : DelegatingHandler(gateway)
    {
        public bool CheckedIn { get; private set; }

        public int BusyAnswers { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath != AgentProtocol.BasePath + "/facts")
            {
                return await base.SendAsync(request, cancellationToken);
            }
            while (holds && !answerWhen())
            {
                await Task.Delay(50, cancellationToken);
            }
            if (!answerWhen())
            {
                BusyAnswers++;
                return new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
            }
            CheckedIn = answer == HttpStatusCode.NoContent;
            return new HttpResponseMessage(answer) { Content = new StringContent(answer == HttpStatusCode.NoContent ? "" : "{\"title\":\"refused\"}") };
        }
    }
}
