using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Rehome.Agent.Enrollment;
using Rehome.Agent.Platform.Simulated;
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
        device.Gateway.ReportSeconds = 1;
        var renewals = new ConcurrentQueue<Guid>();
        device.Gateway.AnswerProgress = report =>
        {
            renewals.Enqueue(report.LeaseToken);
            return null;
        };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        // The check-in is answered only once the lease was renewed three times: an agent that waited for the check-in
        // before renewing would never be answered.
        var server = new BusyCheckIn(device.Gateway, () => renewals.Count >= 3, stop);
        var options = new AgentOptions { ServerUrl = "http://rehome.test", StateFolder = device.Folder, PollSeconds = 1 };
        var platform = new SimulatedDevicePlatform(device.DeviceFolder, new NetworkGate(), TimeProvider.System);
        new AgentIdentityStore(device.Folder).Save(new AgentIdentity
        {
            AgentId = Guid.NewGuid(),
            ServerUrl = options.ServerUrl,
            ProtectedCredential = AgentIdentityStore.Protect("rha_test.secret"),
            EnrolledAs = platform.ReadFacts("test"),
            DeviceKeyBound = true,
        });
        using var http = new HttpClient(server) { BaseAddress = new Uri(options.ServerUrl) };
        var runtime = new AgentRuntime(options, platform, platform.Session, null, new GatewayClient(http), TimeProvider.System, NullLogger.Instance);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runtime.RunAsync(stop.Token));

        Assert.True(server.CheckedIn, $"the check-in was never answered: {renewals.Count} renewals in 30 s");
        Assert.True(server.BusyAnswers > 0);
        Assert.Equal([device.Assignment.LeaseToken], renewals.Distinct());
    }

    /// <summary>Answers the check-in 503 until <paramref name="answerWhen"/> holds, then stops the agent; the rest goes to the fake gateway.</summary>
    private sealed class BusyCheckIn(FakeGateway gateway, Func<bool> answerWhen, CancellationTokenSource stop) : DelegatingHandler(gateway)
    {
        public bool CheckedIn { get; private set; }

        public int BusyAnswers { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath != AgentProtocol.BasePath + "/facts")
            {
                return await base.SendAsync(request, cancellationToken);
            }
            if (!answerWhen())
            {
                BusyAnswers++;
                return new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
            }
            CheckedIn = true;
            await stop.CancelAsync();
            return new HttpResponseMessage(HttpStatusCode.NoContent);
        }
    }
}
