using Microsoft.Extensions.Logging.Abstractions;
using Rehome.Agent.Enrollment;
using Rehome.Agent.Jobs;
using Rehome.Agent.Journal;
using Rehome.Agent.Platform;
using Rehome.Agent.Platform.Simulated;
using Rehome.Agent.Polling;
using Rehome.Protocol;

namespace Rehome.Agent.Tests.Rejoin;

/// <summary>
/// A simulated device running one rejoin job through the real runner against a <see cref="FakeGateway"/>; each
/// restart or crash ends the "agent", and a new one (new platform, new runner, the journal read again) takes over,
/// as after a reboot.
/// </summary>
public sealed class RejoinDevice : IDisposable
{
    public const string SourceDomain = "contoso.example";
    public const string SourceName = "CTS-PC00001";
    public const string DestinationName = "FAB-PC00001";
    public const string UserSid = FakeGateway.SourceDomainSid + "-10001";

    static RejoinDevice()
    {
        JobRunner.FirstRetryDelay = TimeSpan.FromMilliseconds(1);
        JobRunner.MaxRetryDelay = TimeSpan.FromMilliseconds(5);
    }

    public RejoinDevice(DestinationJoin join, SimulatedFaults? faults = null, BreakGlassAccount? breakGlass = null, JobPolicy? policy = null, bool loggedOn = true,
        DeviceJoinType sourceJoinType = DeviceJoinType.ActiveDirectory)
    {
        Folder = Path.Combine(Path.GetTempPath(), "rehome-agent-tests", Guid.NewGuid().ToString("N"));
        DeviceFolder = Path.Combine(Folder, "device");
        SimulatedDeviceBuilder.Create(DeviceFolder, new SimulatedDeviceSpec
        {
            DeviceName = SourceName,
            JoinType = sourceJoinType,
            DomainName = SourceDomain,
            TenantId = sourceJoinType == DeviceJoinType.HybridEntraId ? "99999999-2222-3333-4444-555555555555" : null,
            Users = [new SimulatedUser("user00001", UserSid)],
            LoggedOn = loggedOn,
            FilesPerUser = 1,
            Faults = faults ?? new SimulatedFaults(),
        });
        Assignment = new JobAssignment
        {
            JobId = Guid.NewGuid(),
            RunId = Guid.NewGuid(),
            LeaseToken = Guid.NewGuid(),
            Kind = AgentJobKind.RejoinDomain,
            LeaseSeconds = 60,
            Mapping = new MappingTarget(SourceName, DestinationName, null, @"CONTOSO\user00001", "user00001@fabrikam.example"),
            Policy = policy ?? new JobPolicy(),
            Join = join,
            BreakGlass = breakGlass,
        };
        JobJournal.Create(JobsFolder, Assignment, TimeProvider.System.GetUtcNow());
    }

    public static DestinationJoin ActiveDirectoryOffline => new()
    {
        Kind = JoinKind.ActiveDirectory,
        Offline = true,
        DomainDnsName = "fabrikam.example",
        ComputerName = DestinationName,
        ProvisioningData = Convert.ToBase64String("offline join blob"u8.ToArray()),
    };

    public static DestinationJoin ActiveDirectoryOnline => ActiveDirectoryOffline with { Offline = false, ProvisioningData = null, OneTimePassword = "one-time-Password-1" };

    public static DestinationJoin Hybrid => ActiveDirectoryOffline with { Kind = JoinKind.HybridIdentity, TenantId = "11111111-2222-3333-4444-555555555555" };

    public static DestinationJoin EntraOffline => new()
    {
        Kind = JoinKind.EntraId,
        Offline = true,
        TenantId = "11111111-2222-3333-4444-555555555555",
        ComputerName = DestinationName,
        PackageBytes = 20,
    };

    public string Folder { get; }

    public string DeviceFolder { get; }

    public string JobsFolder => Path.Combine(Folder, "jobs");

    public JobAssignment Assignment { get; }

    public FakeGateway Gateway { get; } = new();

    public SimulatedDeviceState State => new SimulatedDeviceStateFile(DeviceFolder).Read();

    public JobJournal Journal => JobJournal.Open(JobsFolder, Assignment.JobId)!;

    public int Agents { get; private set; }

    /// <summary>Runs the job to its completion through as many agent lives as restarts and crashes take.</summary>
    public async Task<CompletionReport> RunAsync()
    {
        var outcome = await RunToEndAsync();
        Assert.Equal(JobOutcome.Completed, outcome);
        return Assert.Single(Gateway.Completions);
    }

    /// <summary>Runs the job until the runner ends it (completed, or the lease lost) through as many agent lives as it takes.</summary>
    public async Task<JobOutcome> RunToEndAsync()
    {
        for (Agents = 1; Agents <= 20; Agents++)
        {
            var platform = new SimulatedDevicePlatform(DeviceFolder, new NetworkGate(), TimeProvider.System);
            var client = new GatewayClient(new HttpClient(Gateway, disposeHandler: false) { BaseAddress = new Uri("http://rehome.test") });
            client.UseCredential("rha_test.secret");
            var facts = platform.ReadFacts("test");
            var runner = new JobRunner(platform, platform.Session, client, platform, facts, TimeProvider.System);
            try
            {
                return await runner.RunAsync(Journal, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (AgentTerminatedException)
            {
                // A restart or a crash: the next agent takes over from the journal.
            }
        }
        throw new InvalidOperationException("The job did not end in 20 agent lives.");
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

    /// <summary>Runs an enrolled agent on the device's state folder until <paramref name="stop"/>.</summary>
    public async Task RunAgentAsync(HttpMessageHandler server, CancellationToken stop)
    {
        var options = new AgentOptions { ServerUrl = "http://rehome.test", StateFolder = Folder, PollSeconds = 1 };
        var platform = new SimulatedDevicePlatform(DeviceFolder, new NetworkGate(), TimeProvider.System);
        new AgentIdentityStore(Folder).Save(new AgentIdentity
        {
            AgentId = Guid.NewGuid(),
            ServerUrl = options.ServerUrl,
            ProtectedCredential = AgentIdentityStore.Protect("rha_test.secret"),
            EnrolledAs = platform.ReadFacts("test"),
            DeviceKeyBound = true,
        });
        using var http = new HttpClient(server, disposeHandler: false) { BaseAddress = new Uri(options.ServerUrl) };
        var runtime = new AgentRuntime(options, platform, platform.Session, null, new GatewayClient(http), TimeProvider.System, NullLogger.Instance);
        try
        {
            await runtime.RunAsync(stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped by the test once it saw enough.
        }
    }
}
