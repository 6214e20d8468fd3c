using Rehome.Agent.Jobs;
using Rehome.Protocol;

namespace Rehome.Agent.Platform.Simulated;

/// <summary>
/// The simulated device's membership: staged joins are checked as the real platform checks them, an applied join
/// is pending until the restart (<see cref="CompleteAtRestart"/>), and a return ticket withdraws a pending
/// destination join first.
/// </summary>
internal sealed class SimulatedMembership(SimulatedDeviceStateFile state) : IDeviceMembership
{
    public Task<DeviceMembership> GetAsync(CancellationToken ct)
    {
        var s = state.Read();
        var pendingName = s.PendingJoin?.ComputerName;
        return Task.FromResult(new DeviceMembership
        {
            ComputerName = s.ComputerName,
            JoinType = s.JoinType,
            DomainName = s.DomainName,
            TenantId = s.TenantId,
            EntraDeviceId = s.EntraDeviceId,
            PendingComputerName = pendingName is not null && !string.Equals(pendingName, s.ComputerName, StringComparison.OrdinalIgnoreCase) ? pendingName : null,
            PendingJoin = s.PendingJoin is { } pending ? pending.Kind == JoinKind.EntraId ? pending.TenantId : pending.DomainDnsName : null,
        });
    }

    public Task StageAsync(JoinPurpose purpose, DestinationJoin join, byte[]? package, CancellationToken ct)
    {
        Check(join, package);
        state.Change(s => purpose == JoinPurpose.Destination ? s with { StagedJoin = join } : s with { StagedReturn = join });
        return Task.CompletedTask;
    }

    public Task DiscardStagedAsync(CancellationToken ct)
    {
        state.Change(s => s with { StagedJoin = null, StagedReturn = null });
        return Task.CompletedTask;
    }

    public Task LeaveSourceAsync(DeviceMembership source, CancellationToken ct)
    {
        state.Change(s => s with { JoinType = DeviceJoinType.Workgroup, DomainName = null, TenantId = null, EntraDeviceId = null });
        return Task.CompletedTask;
    }

    public Task ApplyAsync(JoinPurpose purpose, DestinationJoin join, CancellationToken ct)
    {
        var staged = (purpose == JoinPurpose.Destination ? state.Read().StagedJoin : state.Read().StagedReturn)
            ?? throw new StepFailedException("JoinNotPrepared", $"The {purpose.ToString().ToLowerInvariant()} join was not prepared on this device.");
        state.Change(s =>
        {
            // Going back: whatever the device joined since (a destination that took but refuses it) is left first.
            var left = purpose == JoinPurpose.Return && s.JoinType != DeviceJoinType.Workgroup
                ? s with { JoinType = DeviceJoinType.Workgroup, DomainName = null, TenantId = null, EntraDeviceId = null }
                : s;
            // As on Windows, the staged secret is gone once applied.
            var applied = purpose == JoinPurpose.Destination ? left with { StagedJoin = null } : left with { StagedReturn = null };
            return applied with { PendingJoin = staged, PendingPurpose = purpose };
        });
        return Task.CompletedTask;
    }

    public Task<JoinVerification> VerifyAsync(DestinationJoin join, CancellationToken ct)
    {
        var before = state.Read();
        if (before.PendingPurpose == JoinPurpose.Destination && before.DestinationRefusalsGiven < before.Faults.DestinationRefusals)
        {
            state.Change(s => s with { DestinationRefusalsGiven = s.DestinationRefusalsGiven + 1 });
            return Task.FromResult(new JoinVerification(false, true, "the domain controller refused the secure channel (not ready after the boot)"));
        }
        var s = state.Read();
        var unreachable = s.Faults.DestinationUnreachable && s.PendingPurpose == JoinPurpose.Destination;
        var member = s.ComputerName.Equals(join.ComputerName, StringComparison.OrdinalIgnoreCase)
            && (join.Kind == JoinKind.EntraId ? s.TenantId == join.TenantId : string.Equals(s.DomainName, join.DomainDnsName, StringComparison.OrdinalIgnoreCase));
        return Task.FromResult(unreachable
            ? new JoinVerification(false, false, $"no domain controller of {join.DomainDnsName ?? join.TenantId} answers")
            : new JoinVerification(member, true, member ? $"secure channel with {join.DomainDnsName ?? join.TenantId} verified" : "the device is not a member"));
    }

    public Task<HybridRegistration> RegisterHybridAsync(bool trigger, CancellationToken ct)
    {
        var s = state.Change(s =>
        {
            var triggered = s.HybridTriggered || trigger;
            var registers = triggered && !s.Faults.HybridNeverRegisters && s.HybridTenantId is not null && s.DomainName is not null;
            return s with
            {
                HybridTriggered = triggered,
                JoinType = registers ? DeviceJoinType.HybridEntraId : s.JoinType,
                TenantId = registers ? s.HybridTenantId : s.TenantId,
                EntraDeviceId = registers ? SimulatedDevicePlatform.DeterministicGuid(s.ComputerName + "@" + s.HybridTenantId).ToString() : s.EntraDeviceId,
            };
        });
        return Task.FromResult(new HybridRegistration(s.JoinType is DeviceJoinType.HybridEntraId or DeviceJoinType.EntraId, s.DomainName is not null, s.TenantId, s.EntraDeviceId));
    }

    /// <summary>What Windows does at a restart with a pending join: the device comes up under the joined name and membership.</summary>
    internal static SimulatedDeviceState CompleteAtRestart(SimulatedDeviceState s)
    {
        if (s.PendingJoin is not { } join)
        {
            return s;
        }
        var cleared = s with { PendingJoin = null };
        if (s.PendingPurpose == JoinPurpose.Destination && s.Faults.JoinIgnoredAtRestart)
        {
            return cleared;
        }
        if (s.PendingPurpose == JoinPurpose.Return && s.ReturnJoinsIgnored < s.Faults.ReturnJoinFailures)
        {
            return cleared with { ReturnJoinsIgnored = s.ReturnJoinsIgnored + 1 };
        }
        return cleared with
        {
            ComputerName = join.ComputerName,
            JoinType = join.Kind == JoinKind.EntraId ? DeviceJoinType.EntraId : DeviceJoinType.ActiveDirectory,
            DomainName = join.Kind == JoinKind.EntraId ? null : join.DomainDnsName,
            TenantId = join.Kind == JoinKind.EntraId ? join.TenantId : null,
            EntraDeviceId = join.Kind == JoinKind.EntraId ? SimulatedDevicePlatform.DeterministicGuid(join.ComputerName + "@" + join.TenantId).ToString() : null,
            HybridTenantId = join.Kind == JoinKind.HybridIdentity ? join.TenantId : null,
            HybridTriggered = false,
        };
    }

    /// <summary>The same checks as the Windows platform's staging: the join data its method needs is there and readable.</summary>
    private static void Check(DestinationJoin join, byte[]? package)
    {
        if (join.Kind == JoinKind.EntraId)
        {
            if (!join.Offline || package is not { Length: > 0 })
            {
                throw new StepFailedException("NoProvisioningPackage", "An Entra ID join needs the tenant's provisioning package, and none came.");
            }
            return;
        }
        if (join.Offline && (string.IsNullOrWhiteSpace(join.ProvisioningData) || !Convert.TryFromBase64String(join.ProvisioningData, new byte[join.ProvisioningData.Length], out var length) || length == 0))
        {
            throw new StepFailedException("NoOfflineJoinData", "The server sent no readable offline join data for this device.");
        }
        if (!join.Offline && string.IsNullOrEmpty(join.OneTimePassword))
        {
            throw new StepFailedException("NoOneTimePassword", "An online join needs the one-time password of the computer account the server created, and none came.");
        }
    }
}
