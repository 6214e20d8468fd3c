using Rehome.Agent.Jobs;
using Rehome.Protocol;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform.Simulated;

/// <summary>The simulated agent crashed (a fault injected by configuration).</summary>
public sealed class SimulatedCrashException(string step) : AgentTerminatedException($"Simulated crash at {step}.");

/// <summary>
/// A Windows device modelled in a folder: membership, computer name, local Administrators, ProfileList,
/// hardware identity and boot count in <c>device.json</c>; files, folders and registry keys with their security
/// descriptors in a <see cref="FolderSecurityStore"/>. A restart ends the agent (the caller starts a new one on
/// the same folder), as a real restart ends the service. Faults come from the state's <see cref="SimulatedFaults"/>.
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
    }

    public string Folder { get; }

    public FolderSecurityStore Store { get; }

    public NetworkGate Network { get; }

    public SimulatedUserSession Session { get; }

    public SimulatedDeviceState State => state.Read();

    public ISecurityStore SecurityStore => Store;

    public long BootCount => state.Read().BootCount;

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
            ProfileSids = [.. s.Profiles.Select(p => p.Sid)],
            FreeDiskSpaceBytes = s.FreeDiskSpaceBytes,
        };
    }

    public Task<DeviceMembership> GetMembershipAsync(CancellationToken ct)
    {
        var s = state.Read();
        return Task.FromResult(new DeviceMembership
        {
            ComputerName = s.ComputerName,
            JoinType = s.JoinType,
            DomainName = s.DomainName,
            TenantId = s.TenantId,
            EntraDeviceId = s.EntraDeviceId,
        });
    }

    public Task PrepareJoinAsync(DestinationJoin join, CancellationToken ct)
    {
        if (join.Offline && (join.ProvisioningData is null || !Convert.TryFromBase64String(join.ProvisioningData, new byte[join.ProvisioningData.Length], out _)))
        {
            throw new StepFailedException("NoOfflineJoinData", "The server sent no readable offline join data for this device.");
        }
        state.Change(s => s with { StagedJoin = join });
        return Task.CompletedTask;
    }

    public Task LeaveSourceAsync(DeviceMembership source, bool keepCachedCredentials, CancellationToken ct)
    {
        state.Change(s => s with { JoinType = DeviceJoinType.Workgroup, DomainName = null, TenantId = null, EntraDeviceId = null });
        return Task.CompletedTask;
    }

    public Task JoinDestinationAsync(DestinationJoin join, CancellationToken ct)
    {
        var staged = state.Read().StagedJoin ?? throw new StepFailedException("JoinNotPrepared", "The destination join was not prepared on this device.");
        state.Change(s => s with
        {
            ComputerName = staged.ComputerName,
            JoinType = staged.Kind switch
            {
                JoinKind.EntraId => DeviceJoinType.EntraId,
                JoinKind.HybridIdentity => DeviceJoinType.HybridEntraId,
                _ => DeviceJoinType.ActiveDirectory,
            },
            DomainName = staged.Kind == JoinKind.EntraId ? null : staged.DomainDnsName,
            TenantId = staged.TenantId,
            EntraDeviceId = staged.Kind == JoinKind.ActiveDirectory ? null : DeterministicGuid(staged.ComputerName + "@" + staged.TenantId).ToString(),
            StagedJoin = null,
        });
        return Task.CompletedTask;
    }

    public Task RestoreMembershipAsync(DeviceMembership previous, CancellationToken ct)
    {
        state.Change(s => s with
        {
            ComputerName = previous.ComputerName,
            JoinType = previous.JoinType,
            DomainName = previous.DomainName,
            TenantId = previous.TenantId,
            EntraDeviceId = previous.EntraDeviceId,
            StagedJoin = null,
        });
        return Task.CompletedTask;
    }

    public Task RestartAsync(string reason, CancellationToken ct)
    {
        state.Change(s => s with { BootCount = s.BootCount + 1, Locked = false });
        throw new DeviceRestartingException(reason);
    }

    public Task<IReadOnlyList<string>> GetLocalAdministratorsAsync(CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<string>>(state.Read().LocalAdministrators);

    public Task AddLocalAdministratorAsync(string sid, CancellationToken ct)
    {
        state.Change(s => s.LocalAdministrators.Contains(sid) ? s : s with { LocalAdministrators = [.. s.LocalAdministrators, sid] });
        return Task.CompletedTask;
    }

    public Task RemoveLocalAdministratorAsync(string sid, CancellationToken ct)
    {
        state.Change(s => s with { LocalAdministrators = [.. s.LocalAdministrators.Where(a => a != sid)] });
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<UserProfile>> GetProfilesAsync(CancellationToken ct) => Task.FromResult<IReadOnlyList<UserProfile>>(state.Read().Profiles);

    public Task SetProfileAsync(string sid, string profileImagePath, CancellationToken ct)
    {
        state.Change(s => s with { Profiles = [.. s.Profiles.Where(p => p.Sid != sid), new UserProfile(sid, profileImagePath)] });
        return Task.CompletedTask;
    }

    public Task RemoveProfileAsync(string sid, CancellationToken ct)
    {
        state.Change(s => s with { Profiles = [.. s.Profiles.Where(p => p.Sid != sid)] });
        return Task.CompletedTask;
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
            state.Change(s => s with { StepRuns = new Dictionary<string, int>(s.StepRuns) { [step] = s.StepRuns.GetValueOrDefault(step) + 1 } });
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
