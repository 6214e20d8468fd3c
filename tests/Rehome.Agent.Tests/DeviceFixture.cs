using Microsoft.Extensions.Time.Testing;
using Rehome.Agent.Jobs;
using Rehome.Agent.Journal;
using Rehome.Agent.Platform;
using Rehome.Agent.Platform.Simulated;
using Rehome.Agent.Polling;
using Rehome.Protocol;

namespace Rehome.Agent.Tests;

/// <summary>A simulated device in a temporary folder and a job context on it (no server: the steps under test do not call it).</summary>
public sealed class DeviceFixture : IDisposable
{
    public DeviceFixture(IReadOnlyList<PromptAnswer>? answers = null, bool loggedOn = true, JobPolicy? policy = null)
    {
        Folder = Path.Combine(Path.GetTempPath(), "rehome-agent-tests", Guid.NewGuid().ToString("N"));
        SimulatedDeviceBuilder.Create(Path.Combine(Folder, "device"), new SimulatedDeviceSpec
        {
            DeviceName = "CTS-PC00001",
            DomainName = "contoso.example",
            Users = [new SimulatedUser("user00001", "S-1-5-21-1004336348-1177238915-682003330-10001")],
            LoggedOn = loggedOn,
            PromptAnswers = answers ?? [PromptAnswer.StartNow],
            FilesPerUser = 2,
        });
        Platform = new SimulatedDevicePlatform(Path.Combine(Folder, "device"), new NetworkGate(), Time);
        var assignment = new JobAssignment
        {
            JobId = Guid.NewGuid(),
            RunId = Guid.NewGuid(),
            LeaseToken = Guid.NewGuid(),
            Kind = AgentJobKind.RejoinDomain,
            LeaseSeconds = 60,
            Mapping = new MappingTarget("CTS-PC00001", "FAB-PC00001", null, @"CONTOSO\user00001", "user00001@fabrikam.example"),
            Policy = policy ?? new JobPolicy(),
        };
        Journal = JobJournal.Create(Path.Combine(Folder, "jobs"), assignment, Time.GetUtcNow());
        Context = new JobContext(Journal, new JobLog(Journal.PathOf("log.jsonl"), Time), Platform, Platform.Session,
            new GatewayClient(new HttpClient()), Time, CancellationToken.None);
    }

    public string Folder { get; }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 28, 9, 0, 0, TimeSpan.Zero));

    public SimulatedDevicePlatform Platform { get; }

    public JobJournal Journal { get; }

    public JobContext Context { get; }

    /// <summary>Runs a step, moving the fake clock a minute at a time while it waits, up to <paramref name="limit"/>.</summary>
    public async Task<TimeSpan> RunAsync(JobStep step, TimeSpan limit)
    {
        var start = Time.GetUtcNow();
        var running = step.RunAsync(Context);
        while (!running.IsCompleted && Time.GetUtcNow() - start < limit)
        {
            await Task.Delay(5);
            Time.Advance(TimeSpan.FromMinutes(1));
        }
        await running.WaitAsync(TimeSpan.FromSeconds(5));
        return Time.GetUtcNow() - start;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Left for the temp folder's clean-up.
        }
    }
}
