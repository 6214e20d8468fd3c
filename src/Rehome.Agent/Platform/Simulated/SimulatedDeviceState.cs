using Rehome.Agent.Journal;
using Rehome.Protocol;

namespace Rehome.Agent.Platform.Simulated;

/// <summary>Faults to inject into a simulated device, by step name (see the jobs' steps).</summary>
public sealed record SimulatedFaults
{
    /// <summary>This step fails (the job rolls back and ends Failed).</summary>
    public string? FailStep { get; init; }

    /// <summary>The agent crashes at this step, once: before its effect, or after it when <see cref="CrashAfterEffect"/>.</summary>
    public string? CrashStep { get; init; }

    public bool CrashAfterEffect { get; init; }

    /// <summary>This step takes <see cref="SlowSeconds"/> longer.</summary>
    public string? SlowStep { get; init; }

    public double SlowSeconds { get; init; }

    /// <summary>At this step the device loses the network for <see cref="OfflineSeconds"/>.</summary>
    public string? OfflineStep { get; init; }

    public double OfflineSeconds { get; init; }

    /// <summary>The destination join does not take at the restart: the device comes back in a workgroup.</summary>
    public bool JoinIgnoredAtRestart { get; init; }

    /// <summary>No domain controller of the destination (nor Entra ID) answers after the restart.</summary>
    public bool DestinationUnreachable { get; init; }

    /// <summary>The first this many checks of the destination after the restart answer "refused" (a DC not ready after the boot).</summary>
    public int DestinationRefusals { get; init; }

    /// <summary>The first this many return tickets applied do not take at the restart either.</summary>
    public int ReturnJoinFailures { get; init; }

    /// <summary>Hybrid Identity: the Entra ID registration never appears.</summary>
    public bool HybridNeverRegisters { get; init; }

    /// <summary>Re-ACL areas this device's agent cannot do (as a device without the feature), though the simulation models them.</summary>
    public List<ReaclArea> UnsupportedAreas { get; init; } = [];

    /// <summary>Agent versions that, once installed, never check in (a broken build): the watchdog must restore the previous one.</summary>
    public List<string> FailingAgentVersions { get; init; } = [];
}

/// <summary>A simulated Windows device's state, kept in <c>device.json</c> and saved atomically after each change.</summary>
public sealed record SimulatedDeviceState
{
    public required string ComputerName { get; init; }

    public DeviceJoinType JoinType { get; init; }

    public string? DomainName { get; init; }

    public string? TenantId { get; init; }

    public string? EntraDeviceId { get; init; }

    /// <summary>The Entra ID device id the device had in the source tenant (Entra ID groups look it up).</summary>
    public string? SourceEntraDeviceId { get; init; }

    public required string SerialNumber { get; init; }

    public required string HardwareHash { get; init; }

    public string OsVersion { get; init; } = "Microsoft Windows NT 10.0.26100.0";

    /// <summary>The destination join staged by PrepareJoin (with its secret data, as the real platform's protected folder holds it).</summary>
    public DestinationJoin? StagedJoin { get; init; }

    /// <summary>The return ticket staged before the device left its source.</summary>
    public DestinationJoin? StagedReturn { get; init; }

    /// <summary>A join applied that completes at the next restart.</summary>
    public DestinationJoin? PendingJoin { get; init; }

    public JoinPurpose PendingPurpose { get; init; }

    /// <summary>Hybrid Identity: the tenant the device registers in once its registration is triggered.</summary>
    public string? HybridTenantId { get; init; }

    public bool HybridTriggered { get; init; }

    /// <summary>How many applied return tickets did not take (see <see cref="SimulatedFaults.ReturnJoinFailures"/>).</summary>
    public int ReturnJoinsIgnored { get; init; }

    /// <summary>How many destination checks answered "refused" (see <see cref="SimulatedFaults.DestinationRefusals"/>).</summary>
    public int DestinationRefusalsGiven { get; init; }

    /// <summary>Sign-in is blocked (kept across restarts, as the real block is).</summary>
    public bool SignInBlocked { get; init; }

    /// <summary>What the lock screen says while sign-in is blocked.</summary>
    public string? LockNotice { get; init; }

    /// <summary>A power request holds the device awake (gone with the agent's process).</summary>
    public bool KeptAwake { get; init; }

    /// <summary>The steps whose effect ran while the device was kept awake.</summary>
    public List<string> StepsRunAwake { get; init; } = [];

    /// <summary>Local user accounts by name.</summary>
    public List<string> LocalAccounts { get; init; } = ["Administrator"];

    /// <summary>The break-glass accounts the agent created (and has not removed).</summary>
    public List<string> BreakGlassAccounts { get; init; } = [];

    public int? CachedLogonsCount { get; init; } = 10;

    /// <summary>Destination accounts whose logon Windows cached.</summary>
    public List<string> CachedCredentials { get; init; } = [];

    /// <summary>The default app associations (DISM's XML) Windows would export; null when none are set.</summary>
    public string? DefaultAppAssociations { get; init; } = "<DefaultAssociations><Association Identifier=\".pdf\" ProgId=\"AcroExch.Document.DC\" ApplicationName=\"Adobe Acrobat\" /></DefaultAssociations>";

    /// <summary>What the last import of default app associations set.</summary>
    public string? ImportedAppAssociations { get; init; }

    /// <summary>Fixed volumes protected by BitLocker.</summary>
    public List<string> BitLockerVolumes { get; init; } = ["C:"];

    /// <summary>Where each volume's recovery password was escrowed ("C: → fabrikam.com").</summary>
    public List<string> EscrowedRecoveryKeys { get; init; } = [];

    public long BootCount { get; init; } = 1;

    public bool Locked { get; init; }

    public List<string> LoggedOnUsers { get; init; } = [];

    public List<string> LocalAdministrators { get; init; } = [];

    /// <summary>Free space the device reports on its system drive.</summary>
    public long FreeDiskSpaceBytes { get; init; } = 128L << 30;

    /// <summary>What the user answers to the prompts, in order ("StartNow", "Snooze", "NoAnswer"); the last one repeats.</summary>
    public List<PromptAnswer> PromptAnswers { get; init; } = [PromptAnswer.StartNow];

    public int PromptsShown { get; init; }

    public List<string> Notifications { get; init; } = [];

    public SimulatedFaults Faults { get; init; } = new();

    /// <summary>The crash faults that already fired (each fires once).</summary>
    public List<string> CrashesDone { get; init; } = [];

    /// <summary>How many times each step ran its effect (a resumed step that was already done does not count).</summary>
    public Dictionary<string, int> StepRuns { get; init; } = [];

    /// <summary>The agent version installed on the device; null: the version of the code running it.</summary>
    public string? AgentVersion { get; init; }

    /// <summary>The version kept for a rollback while a new one has not checked in.</summary>
    public string? PreviousAgentVersion { get; init; }

    /// <summary>Every agent version an update or a rollback installed, in order (a rollback shows as the old version again).</summary>
    public List<string> AgentVersionHistory { get; init; } = [];
}

/// <summary>
/// Loads and saves a device's state; every operation is a read-change-save under the device's one lock, shared by every
/// object of the process that opens the same device (an agent restarted in the process makes new ones).
/// The state last read or written is kept, and read again only when the file changed since (its time or length): a
/// fleet process holds thousands of devices, each step reads the state several times, and parsing it whole each time
/// was a sixth of the fleet's CPU. Kept states are shared, which is safe because every change makes a new state
/// (records changed by <c>with</c>, collections copied), never changes one in place.
/// </summary>
public sealed class SimulatedDeviceStateFile(string folder)
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Kept> KeptStates = new(StringComparer.Ordinal);

    private readonly Kept kept = KeptStates.GetOrAdd(System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, "device.json")), _ => new Kept());

    public string Path { get; } = System.IO.Path.Combine(folder, "device.json");

    public SimulatedDeviceState Read()
    {
        lock (kept.Gate)
        {
            var file = new FileInfo(Path);
            var exists = file.Exists;
            if (kept.State is { } state && exists && file.LastWriteTimeUtc == kept.Written && file.Length == kept.Length)
            {
                return state;
            }
            state = DurableFile.ReadJson<SimulatedDeviceState>(Path) ?? throw new InvalidOperationException($"No simulated device in {folder}.");
            // Stamped with what was seen before the read: a write in between only makes the next read read again.
            (kept.State, kept.Written, kept.Length) = (state, file.LastWriteTimeUtc, file.Length);
            return state;
        }
    }

    public SimulatedDeviceState Change(Func<SimulatedDeviceState, SimulatedDeviceState> change)
    {
        lock (kept.Gate)
        {
            var before = Read();
            var state = change(before);
            if (!ReferenceEquals(state, before))
            {
                Write(state);
            }
            return state;
        }
    }

    /// <summary>Writes a whole state (a new device's first).</summary>
    public void Write(SimulatedDeviceState state)
    {
        lock (kept.Gate)
        {
            DurableFile.WriteJson(Path, state);
            var file = new FileInfo(Path);
            (kept.State, kept.Written, kept.Length) = (state, file.LastWriteTimeUtc, file.Length);
        }
    }

    private sealed class Kept
    {
        public Lock Gate { get; } = new();

        public SimulatedDeviceState? State { get; set; }

        public DateTime Written { get; set; }

        public long Length { get; set; }
    }
}
