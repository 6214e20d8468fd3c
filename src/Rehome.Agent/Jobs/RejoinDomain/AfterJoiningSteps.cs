using System.Globalization;
using Rehome.Agent.Jobs.Common;
using Rehome.Agent.Platform;
using Rehome.Protocol;
using Rehome.Security.Sids;

namespace Rehome.Agent.Jobs.RejoinDomain;

/// <summary>
/// Hybrid Identity: starts the device's Entra ID registration and waits, up to the policy's time, until
/// <c>dsregcmd /status</c> shows it joined to both the domain and the destination tenant. The device is in its
/// destination domain either way: a registration that does not come is reported, not rolled back.
/// </summary>
public sealed class WaitForHybridRegistrationStep : JobStep
{
    private const string StartedKey = "rejoin.hybridWaitStarted";

    public override AfterLeavingFailure WhenFailedAfterLeaving => AfterLeavingFailure.CarryOn;

    public override async Task RunAsync(JobContext context)
    {
        var join = CacheCredentialsStep.Join(context);
        if (join.Kind != JoinKind.HybridIdentity)
        {
            return;
        }
        var started = context.Journal.Get(StartedKey) is { } saved ? DateTimeOffset.Parse(saved, CultureInfo.InvariantCulture) : context.Time.GetUtcNow();
        context.Journal.Set(StartedKey, started.ToString("O", CultureInfo.InvariantCulture));
        var deadline = started + TimeSpan.FromSeconds(Math.Max(0, context.Assignment.Policy.HybridRegistrationWaitSeconds));
        var delay = TimeSpan.FromSeconds(10);
        var trigger = true;
        while (true)
        {
            var state = await context.Platform.Membership.RegisterHybridAsync(trigger, context.Cancellation);
            trigger = false;
            var tenantMatches = join.TenantId is null || string.Equals(state.TenantId, join.TenantId, StringComparison.OrdinalIgnoreCase);
            if (state.AzureAdJoined && state.DomainJoined && tenantMatches)
            {
                context.Log.Information($"Hybrid registration done: tenant {state.TenantId}, device {state.DeviceId}.");
                return;
            }
            if (state.AzureAdJoined && !tenantMatches)
            {
                throw new StepFailedException("HybridWrongTenant", $"The device registered in tenant {state.TenantId}, not {join.TenantId}.");
            }
            if (context.Time.GetUtcNow() >= deadline)
            {
                throw new StepFailedException("HybridRegistrationTimedOut",
                    $"No hybrid registration in {join.TenantId} after {context.Assignment.Policy.HybridRegistrationWaitSeconds} s (AzureAdJoined: {state.AzureAdJoined}, DomainJoined: {state.DomainJoined}); "
                    + "the device is in its destination domain: check Entra Connect's device sync and the service connection point.");
            }
            context.Message = "Waiting for hybrid registration";
            var left = deadline - context.Time.GetUtcNow();
            await Task.Delay(delay < left ? delay : left, context.Time, context.Cancellation);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMinutes(5).Ticks));
        }
    }
}

/// <summary>
/// Carries device permissions over once the destination answers (after the restart, so that Windows can
/// resolve the destination SIDs): the local Administrators group gets the destination identity of each mapped
/// source member; the source members stay, for coexistence. A member Windows cannot resolve yet is reported,
/// not a failure.
/// </summary>
public sealed class CarryOverLocalAdministratorsStep : JobStep
{
    private const string MapFile = "administrators.sidmap.json";
    private const string AddedKey = "rejoin.administratorsAdded";

    public override AfterLeavingFailure WhenFailedAfterLeaving => AfterLeavingFailure.CarryOn;

    public override async Task RunAsync(JobContext context)
    {
        var members = await context.Platform.Accounts.GetAdministratorsAsync(context.Cancellation);
        var map = await Identities.MapAsync(context, [.. members.Where(Identities.IsMappable)], MapFile);
        var added = new List<string>((context.Journal.Get(AddedKey) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries));
        foreach (var member in members)
        {
            if (!map.TryGetDestination(SecurityIdentifier.Parse(member), out var destination) || members.Contains(destination.ToString()))
            {
                continue;
            }
            var sid = destination.ToString();
            switch (await context.Platform.Accounts.AddAdministratorAsync(sid, context.Cancellation))
            {
                case MemberChange.NotResolvable:
                    context.ReportFailure(new ItemResult($"Administrators: {sid}", ItemOutcome.Failed,
                        "Windows cannot resolve this destination identity yet (error 1387); add it once a domain controller answers."));
                    break;
                case MemberChange.Done:
                    added.Add(sid);
                    context.Journal.Set(AddedKey, string.Join(',', added));
                    context.Report(new ItemResult($"Administrators: {sid}", ItemOutcome.Changed, null));
                    break;
            }
        }
        context.Log.Information($"Local Administrators: {added.Count} destination identities added.");
    }
}

/// <summary>Imports the default app associations exported before the device left its source.</summary>
public sealed class ImportAppAssociationsStep : JobStep
{
    public override AfterLeavingFailure WhenFailedAfterLeaving => AfterLeavingFailure.CarryOn;

    public override async Task RunAsync(JobContext context)
    {
        var file = context.Journal.PathOf(ExportAppAssociationsStep.FileName);
        if (context.Journal.Get(ExportAppAssociationsStep.ExportedKey) != "true" || !File.Exists(file))
        {
            return;
        }
        await context.Platform.Settings.ImportDefaultAppAssociationsAsync(file, context.Cancellation);
        context.Log.Information("Default app associations imported.");
    }
}

/// <summary>Backs BitLocker recovery passwords up to the directory the device now belongs to.</summary>
public sealed class EscrowBitLockerKeysStep : JobStep
{
    public override AfterLeavingFailure WhenFailedAfterLeaving => AfterLeavingFailure.CarryOn;

    public override async Task RunAsync(JobContext context)
    {
        var join = CacheCredentialsStep.Join(context);
        var count = await context.Platform.Settings.EscrowBitLockerKeysAsync(join, context.Cancellation);
        context.Log.Information(count == 0 ? "No BitLocker-protected volume." : $"{count} BitLocker recovery password(s) escrowed to {join.DomainDnsName ?? join.TenantId}.");
        if (count > 0)
        {
            context.Report(new ItemResult("BitLocker recovery passwords", ItemOutcome.Changed, null));
        }
    }
}

/// <summary>Removes the break-glass administrator at the end of the job, whichever way it went.</summary>
public sealed class RemoveBreakGlassStep : JobStep
{
    public override AfterLeavingFailure WhenFailedAfterLeaving => AfterLeavingFailure.CarryOn;

    public override Task RunAsync(JobContext context) => CreateBreakGlassStep.RemoveAsync(context, context.Cancellation);
}
