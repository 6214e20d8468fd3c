using Rehome.Agent.Enrollment;
using Rehome.Agent.Jobs;
using Rehome.Agent.Platform.Simulated.Areas;
using Rehome.Protocol;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform.Simulated;

/// <summary>The simulated agent crashed (a fault injected by configuration).</summary>
public sealed class SimulatedCrashException(string step) : AgentTerminatedException($"Simulated crash at {step}.");

/// <summary>
/// A Windows device modelled in a folder: membership, computer name, local accounts and Administrators,
/// ProfileList, settings, hardware identity and boot count in <c>device.json</c>; files, folders and registry keys
/// with their security descriptors in a <see cref="FolderSecurityStore"/>. It behaves as Windows does where the
/// jobs' decisions depend on it: a join applied completes at the restart, sign-in stays blocked across restarts,
/// a power request ends with the agent's process, a domain SID cannot be added to a group while the device
/// belongs to no domain. A restart ends the agent (the caller starts a new one on the same folder), as a real
/// restart ends the service. Faults come from the state's <see cref="SimulatedFaults"/>.
/// </summary>
public sealed class SimulatedDevicePlatform : IDevicePlatform, IStepFaults
{
    private readonly SimulatedDeviceStateFile state;
    private readonly TimeProvider time;

    public SimulatedDevicePlatform(string folder, NetworkGate network, TimeProvider time)
    {
        Folder = folder;
        state = new SimulatedDeviceStateFile(folder);
        Store = new FolderSecurityStore(folder);
        Network = network;
        this.time = time;
        Session = new SimulatedUserSession(state);
        Membership = new SimulatedMembership(state);
        Power = new SimulatedPower(state);
        Accounts = new SimulatedAccounts(state);
        Profiles = new SimulatedProfiles(folder, state, Store);
        Settings = new SimulatedSettings(state);
        // The key belongs to the device, not to the agent's install: a reinstalled agent proves the same device.
        Identity = new FolderDeviceIdentity(folder);
        // A new agent process: whatever power request the last one held ended with it.
        state.Change(s => s.KeptAwake ? s with { KeptAwake = false } : s);
    }

    public string Folder { get; }

    public FolderSecurityStore Store { get; }

    public NetworkGate Network { get; }

    public SimulatedUserSession Session { get; }

    public SimulatedDeviceState State => state.Read();

    public ISecurityStore SecurityStore => Store;

    public IDeviceAreas Areas => new DeviceAreaSet(Store, () => [@"C:\"], Supported(new Dictionary<ReaclArea, Func<JobPolicy, OpenedArea>>
    {
        [ReaclArea.LocalGroups] = _ => SimulatedLocalGroups.Open(Folder, state),
        [ReaclArea.UserRights] = _ => SimulatedUserRights.Open(Folder),
        [ReaclArea.Shares] = _ => SimulatedShares.Open(Folder),
        [ReaclArea.Services] = _ => SimulatedServices.Open(Folder),
        [ReaclArea.Printers] = _ => SimulatedPrinters.Open(Folder),
        [ReaclArea.ScheduledTasks] = _ => SimulatedTasks.Open(Folder),
        [ReaclArea.UserHives] = _ => Profiles.Hives.OpenArea(),
    }));

    /// <summary>The openers, minus the areas the device's faults say it cannot do.</summary>
    private Dictionary<ReaclArea, Func<JobPolicy, OpenedArea>> Supported(Dictionary<ReaclArea, Func<JobPolicy, OpenedArea>> openers)
    {
        var unsupported = state.Read().Faults.UnsupportedAreas;
        return openers.Where(o => !unsupported.Contains(o.Key)).ToDictionary();
    }

    public IDeviceMembership Membership { get; }

    public IDevicePower Power { get; }

    public ILocalAccounts Accounts { get; }

    public SimulatedProfiles Profiles { get; }

    IUserProfiles IDevicePlatform.Profiles => Profiles;

    public IDeviceSettings Settings { get; }

    public IDeviceIdentity Identity { get; }

    public DeviceFacts ReadFacts(string agentVersion)
    {
        var s = state.Read();
        return new DeviceFacts
        {
            DeviceName = s.ComputerName,
            OsVersion = s.OsVersion,
            AgentVersion = agentVersion,
            JoinType = s.JoinType,
            DomainName = s.DomainName,
            TenantId = s.TenantId,
            EntraDeviceId = s.EntraDeviceId,
            LoggedOnUsers = s.LoggedOnUsers,
            ProfileSids = [.. Profiles.Read().Select(p => p.Sid)],
            FreeDiskSpaceBytes = s.FreeDiskSpaceBytes,
        };
    }

    public Task<HardwareIdentity> GetHardwareIdentityAsync(CancellationToken ct)
    {
        var s = state.Read();
        return Task.FromResult(new HardwareIdentity(s.SerialNumber, s.HardwareHash));
    }

    public async Task AtStepAsync(string step, bool afterEffect, CancellationToken ct)
    {
        var faults = state.Read().Faults;
        if (afterEffect)
        {
            state.Change(s => s with
            {
                StepRuns = new Dictionary<string, int>(s.StepRuns) { [step] = s.StepRuns.GetValueOrDefault(step) + 1 },
                StepsRunAwake = s.KeptAwake && !s.StepsRunAwake.Contains(step) ? [.. s.StepsRunAwake, step] : s.StepsRunAwake,
            });
        }
        else
        {
            if (faults.FailStep == step)
            {
                throw new StepFailedException("InjectedFailure", $"Injected failure at {step}.");
            }
            if (faults.SlowStep == step)
            {
                await Task.Delay(TimeSpan.FromSeconds(faults.SlowSeconds), time, ct);
            }
            if (faults.OfflineStep == step)
            {
                Network.GoOffline(TimeSpan.FromSeconds(faults.OfflineSeconds));
            }
        }
        if (faults.CrashStep == step && faults.CrashAfterEffect == afterEffect && !state.Read().CrashesDone.Contains(step))
        {
            state.Change(s => s with { CrashesDone = [.. s.CrashesDone, step] });
            throw new SimulatedCrashException(step);
        }
    }

    internal static Guid DeterministicGuid(string text)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text.ToUpperInvariant()));
        return new Guid(hash.AsSpan(0, 16));
    }
}
