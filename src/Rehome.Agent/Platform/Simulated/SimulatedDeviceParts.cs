using Rehome.Agent.Jobs;
using Rehome.Protocol;

namespace Rehome.Agent.Platform.Simulated;

/// <summary>Boots: a restart completes the pending join, ends the sessions (not the sign-in block) and the agent.</summary>
internal sealed class SimulatedPower(SimulatedDeviceStateFile state) : IDevicePower
{
    public long BootCount => state.Read().BootCount;

    public Task RestartAsync(string reason, CancellationToken ct)
    {
        state.Change(s => SimulatedMembership.CompleteAtRestart(s) with { BootCount = s.BootCount + 1, Locked = false, KeptAwake = false });
        throw new DeviceRestartingException(reason);
    }

    public IDisposable KeepAwake(string reason)
    {
        state.Change(s => s with { KeptAwake = true });
        return new Release(() => state.Change(s => s with { KeptAwake = false }));
    }

    private sealed class Release(Action release) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                release();
            }
        }
    }
}

/// <summary>Local accounts: a domain SID cannot be resolved while the device belongs to no domain (Windows' 1387).</summary>
internal sealed class SimulatedAccounts(SimulatedDeviceStateFile state) : ILocalAccounts
{
    public Task<IReadOnlyList<string>> GetAdministratorsAsync(CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<string>>(state.Read().LocalAdministrators);

    public Task<MemberChange> AddAdministratorAsync(string sid, CancellationToken ct)
    {
        var outcome = MemberChange.Done;
        state.Change(s =>
        {
            if (s.LocalAdministrators.Contains(sid))
            {
                outcome = MemberChange.AlreadySo;
                return s;
            }
            if (s.JoinType == DeviceJoinType.Workgroup)
            {
                outcome = MemberChange.NotResolvable;
                return s;
            }
            return s with { LocalAdministrators = [.. s.LocalAdministrators, sid] };
        });
        return Task.FromResult(outcome);
    }

    public Task<MemberChange> RemoveAdministratorAsync(string sid, CancellationToken ct)
    {
        var outcome = MemberChange.Done;
        state.Change(s =>
        {
            outcome = s.LocalAdministrators.Contains(sid) ? MemberChange.Done : MemberChange.AlreadySo;
            return s with { LocalAdministrators = [.. s.LocalAdministrators.Where(a => a != sid)] };
        });
        return Task.FromResult(outcome);
    }

    public Task<bool> CreateBreakGlassAsync(BreakGlassAccount account, CancellationToken ct)
    {
        var created = true;
        state.Change(s =>
        {
            var exists = s.LocalAccounts.Contains(account.UserName, StringComparer.OrdinalIgnoreCase);
            var ours = s.BreakGlassAccounts.Contains(account.UserName, StringComparer.OrdinalIgnoreCase);
            if (exists && !ours)
            {
                created = false;
                return s;
            }
            return ours ? s : s with { LocalAccounts = [.. s.LocalAccounts, account.UserName], BreakGlassAccounts = [.. s.BreakGlassAccounts, account.UserName] };
        });
        return Task.FromResult(created);
    }

    public Task RemoveBreakGlassAsync(string userName, CancellationToken ct)
    {
        state.Change(s => s with
        {
            LocalAccounts = [.. s.LocalAccounts.Where(a => !a.Equals(userName, StringComparison.OrdinalIgnoreCase))],
            BreakGlassAccounts = [.. s.BreakGlassAccounts.Where(a => !a.Equals(userName, StringComparison.OrdinalIgnoreCase))],
        });
        return Task.CompletedTask;
    }
}

/// <summary>Default apps, BitLocker and cached logons; recovery keys go to the directory the device belongs to now.</summary>
internal sealed class SimulatedSettings(SimulatedDeviceStateFile state) : IDeviceSettings
{
    public async Task<bool> ExportDefaultAppAssociationsAsync(string file, CancellationToken ct)
    {
        if (state.Read().DefaultAppAssociations is not { } xml)
        {
            return false;
        }
        await File.WriteAllTextAsync(file, xml, ct);
        return true;
    }

    public async Task ImportDefaultAppAssociationsAsync(string file, CancellationToken ct)
    {
        var xml = await File.ReadAllTextAsync(file, ct);
        state.Change(s => s with { ImportedAppAssociations = xml });
    }

    public Task<int> EscrowBitLockerKeysAsync(DestinationJoin join, CancellationToken ct)
    {
        var s = state.Read();
        var where = s.JoinType == DeviceJoinType.EntraId ? s.TenantId ?? "Entra ID" : s.DomainName;
        if (s.JoinType == DeviceJoinType.Workgroup || where is null)
        {
            throw new StepFailedException("NotJoined", "BitLocker keys are escrowed to the directory the device belongs to, and it belongs to none.");
        }
        state.Change(s => s with { EscrowedRecoveryKeys = [.. s.EscrowedRecoveryKeys, .. s.BitLockerVolumes.Select(v => $"{v} → {where}")] });
        return Task.FromResult(s.BitLockerVolumes.Count);
    }

    public Task<int?> GetCachedLogonsCountAsync(CancellationToken ct) => Task.FromResult(state.Read().CachedLogonsCount);

    public Task SetCachedLogonsCountAsync(int? count, CancellationToken ct)
    {
        state.Change(s => s with { CachedLogonsCount = count });
        return Task.CompletedTask;
    }
}
