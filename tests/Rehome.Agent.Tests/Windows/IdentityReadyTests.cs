using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Rehome.Agent.Platform.Simulated;
using Rehome.Agent.Polling;
using Rehome.Protocol;

namespace Rehome.Agent.Tests.Windows;

/// <summary>The Windows agent deletes its configuration key when the runtime says it holds its identity.</summary>
public sealed class IdentityReadyTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("rehome-identity-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public async Task The_runtime_reports_its_identity_after_enrolling_and_again_at_every_later_start()
    {
        SimulatedDeviceBuilder.Create(Path.Combine(folder, "device"), new SimulatedDeviceSpec { DeviceName = "CTS-PC00001", DomainName = "contoso.example", Users = [], LoggedOn = false });
        var options = new AgentOptions { ServerUrl = "http://rehome.test", ConfigurationKey = "key-1", StateFolder = Path.Combine(folder, "state"), PollSeconds = 1 };

        var (first, enrollments) = await RunUntilFirstPollAsync(options);
        var (second, enrollmentsAfter) = await RunUntilFirstPollAsync(options);

        Assert.Equal((1, 1), (first, enrollments));
        Assert.Equal((1, 0), (second, enrollmentsAfter));
    }

    /// <summary>Runs a runtime against a stub server until it polls; returns how often IdentityReady fired and how often it enrolled.</summary>
    private async Task<(int Ready, int Enrollments)> RunUntilFirstPollAsync(AgentOptions options)
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var server = new StubServer(stop);
        var device = new SimulatedDevicePlatform(Path.Combine(folder, "device"), new NetworkGate(), TimeProvider.System);
        using var http = new HttpClient(server) { BaseAddress = new Uri(options.ServerUrl!) };
        var ready = 0;
        var runtime = new AgentRuntime(options, device, device.Session, null, new GatewayClient(http), TimeProvider.System, NullLogger.Instance)
        {
            IdentityReady = () => ready++,
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runtime.RunAsync(stop.Token));
        Assert.True(server.Polled, "The runtime never polled.");
        return (ready, server.Enrollments);
    }

    private sealed class StubServer(CancellationTokenSource stop) : HttpMessageHandler
    {
        public int Enrollments { get; private set; }

        public bool Polled { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            if (path.EndsWith("/enroll", StringComparison.Ordinal))
            {
                Enrollments++;
                var answer = JsonSerializer.Serialize(new EnrollResponse(Guid.NewGuid(), "credential", null), AgentProtocol.JsonOptions);
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(answer, System.Text.Encoding.UTF8, "application/json") });
            }

            if (path.Contains("/poll", StringComparison.Ordinal))
            {
                Polled = true;
                stop.Cancel();
            }

            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.NoContent));
        }
    }
}
