using Rehome.Agent.Jobs;
using Rehome.Agent.Jobs.Common;
using Rehome.Agent.Jobs.MigratePermissions;
using Rehome.Agent.Journal;
using Rehome.Agent.Platform;
using Rehome.Agent.Platform.Simulated;
using Rehome.Agent.Polling;
using Rehome.Agent.Tests.Rejoin;
using Rehome.Protocol;

namespace Rehome.Agent.Tests.Permissions;

/// <summary>
/// A simulated device with source-domain identities in every area it models, running permissions jobs (and their
/// reverts) through the real runner against a <see cref="FakeGateway"/>; a crash ends the "agent" and a new one
/// takes over from the journal, as after a reboot.
/// </summary>
public sealed class PermissionsDevice : IDisposable
{
    public const string UserSid = FakeGateway.SourceDomainSid + "-10001";
    public const string GroupSid = FakeGateway.SourceDomainSid + "-1200";

    public PermissionsDevice(SimulatedFaults? faults = null)
    {
        Folder = Path.Combine(Path.GetTempPath(), "rehome-agent-tests", Guid.NewGuid().ToString("N"));
        DeviceFolder = Path.Combine(Folder, "device");
        SimulatedDeviceBuilder.Create(DeviceFolder, new SimulatedDeviceSpec
        {
            DeviceName = "CTS-PC00001",
            DomainName = "contoso.example",
            Users = [new SimulatedUser("user00001", UserSid)],
            Groups = [GroupSid],
            FilesPerUser = 3,
            Faults = faults ?? new SimulatedFaults(),
        });
    }

    public string Folder { get; }

    public string DeviceFolder { get; }

    public string JobsFolder => Path.Combine(Folder, "jobs");

    public FakeGateway Gateway { get; } = new();

    public SimulatedDevicePlatform Platform => new(DeviceFolder, new NetworkGate(), TimeProvider.System);

    public SimulatedDeviceState State => new SimulatedDeviceStateFile(DeviceFolder).Read();

    /// <summary>Files, the registry and every other area this device's agent can migrate.</summary>
    public JobPolicy Policy(ReaclMode mode = ReaclMode.Replace) => new()
    {
        ReaclMode = mode,
        FileSystemPaths = [@"C:\Users", @"C:\Data"],
        RegistryKeys = [@"HKLM\SOFTWARE"],
        Areas = SupportedKinds(),
    };

    /// <summary>The policy kinds whose areas the simulated platform opens (more appear as the platform models more).</summary>
    public DeviceAreas SupportedKinds()
    {
        var kinds = DeviceAreas.None;
        foreach (var kind in Enum.GetValues<DeviceAreas>().Where(k => k is not (DeviceAreas.None or DeviceAreas.All)))
        {
            try
            {
                using var opened = Platform.Areas.Open(PermissionsAreas.AreaOf(kind), new JobPolicy());
                kinds |= kind;
            }
            catch (AreaNotSupportedException)
            {
                // Not on this device.
            }
        }
        return kinds;
    }

    /// <summary>Hands the device a permissions job (journaled, as the agent does when it receives one).</summary>
    public JobAssignment Assign(JobPolicy policy, bool dryRun = false, Guid? revertOf = null)
    {
        var assignment = new JobAssignment
        {
            JobId = Guid.NewGuid(),
            RunId = Guid.NewGuid(),
            LeaseToken = Guid.NewGuid(),
            Kind = AgentJobKind.MigratePermissions,
            LeaseSeconds = 60,
            Mapping = new MappingTarget("CTS-PC00001", "FAB-PC00001", null, @"CONTOSO\user00001", "user00001@fabrikam.example"),
            Policy = policy,
            DryRun = dryRun,
            RevertOf = revertOf,
        };
        JobJournal.Create(JobsFolder, assignment, TimeProvider.System.GetUtcNow());
        return assignment;
    }

    public JobJournal Journal(Guid jobId) => JobJournal.Open(JobsFolder, jobId)!;

    /// <summary>Runs the job to its completion through as many agent lives as crashes take; returns its completion.</summary>
    public async Task<CompletionReport> RunAsync(JobAssignment assignment)
    {
        var before = Gateway.Completions.Count;
        for (var agent = 1; agent <= 10; agent++)
        {
            var platform = Platform;
            var client = new GatewayClient(new HttpClient(Gateway, disposeHandler: false) { BaseAddress = new Uri("http://rehome.test") });
            client.UseCredential("rha_test.secret");
            var runner = new JobRunner(platform, platform.Session, client, platform, platform.ReadFacts("test"), TimeProvider.System);
            try
            {
                Assert.Equal(JobOutcome.Completed, await runner.RunAsync(Journal(assignment.JobId), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
                Assert.Equal(before + 1, Gateway.Completions.Count);
                return Gateway.Completions.Last();
            }
            catch (AgentTerminatedException)
            {
                // A crash: the next agent takes over from the journal.
            }
        }
        throw new InvalidOperationException("The job did not end in 10 agent lives.");
    }

    public async Task<CompletionReport> RunAsync(JobPolicy policy, bool dryRun = false, Guid? revertOf = null) =>
        await RunAsync(Assign(policy, dryRun, revertOf));

    /// <summary>
    /// Everything a permissions job may change: every descriptor's bytes, every modelled area file, and the local
    /// Administrators (kept with the rest of the device's state).
    /// </summary>
    public SortedDictionary<string, string> Snapshot()
    {
        var snapshot = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(DeviceFolder, "*", SearchOption.AllDirectories))
        {
            var name = Path.GetRelativePath(DeviceFolder, file);
            if (name.StartsWith("acl", StringComparison.Ordinal) || (Path.GetDirectoryName(name) == "" && name.EndsWith(".json", StringComparison.Ordinal) && name != "device.json"))
            {
                snapshot[name] = Convert.ToBase64String(File.ReadAllBytes(file));
            }
        }
        snapshot["device.json: LocalAdministrators"] = string.Join(",", State.LocalAdministrators);
        return snapshot;
    }

    /// <summary>The source-domain identities an area still names (its descriptors and its holders).</summary>
    public IReadOnlySet<string> SourceSidsIn(ReaclArea area, JobPolicy policy)
    {
        using var opened = Platform.Areas.Open(area, policy);
        var sids = new HashSet<string>(StringComparer.Ordinal);
        if (opened.Store is { } store)
        {
            sids.UnionWith(Identities.Collect(store, opened.Roots, opened.Ignored, CancellationToken.None).Sids);
        }
        if (opened.Holders is { } holders)
        {
            sids.UnionWith(Identities.CollectHolders(holders, CancellationToken.None).Sids);
        }
        sids.RemoveWhere(s => !s.StartsWith(FakeGateway.SourceDomainSid, StringComparison.Ordinal));
        return sids;
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
