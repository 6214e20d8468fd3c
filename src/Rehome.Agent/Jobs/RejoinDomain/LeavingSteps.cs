using System.Globalization;
using Rehome.Agent.Platform;
using Rehome.Protocol;

namespace Rehome.Agent.Jobs.RejoinDomain;

/// <summary>
/// Leaves the source: the point of no return. From here the device goes on to its destination or back to its
/// source through the return ticket, never to a workgroup; a stop request is no longer honoured.
/// </summary>
public sealed class LeaveSourceStep : JobStep
{
    public override bool PointOfNoReturn => true;

    /// <summary>Done only when nothing is left of the source: a Hybrid device that left Entra ID but not its domain leaves again.</summary>
    public override async Task<bool> IsAlreadyDoneAsync(JobContext context) =>
        (await context.Platform.Membership.GetAsync(context.Cancellation)).JoinType == DeviceJoinType.Workgroup;

    public override async Task RunAsync(JobContext context)
    {
        await context.Platform.Membership.LeaveSourceAsync(RecordMembershipStep.Previous(context), context.Cancellation);
        context.Log.Information("Left the source.");
    }
}

/// <summary>Applies the staged destination join under the mapping's destination name; it completes at the restart.</summary>
public sealed class JoinDestinationStep : JobStep
{
    public override int Attempts => 3;

    public override async Task<bool> IsAlreadyDoneAsync(JobContext context)
    {
        var join = CacheCredentialsStep.Join(context);
        var now = await context.Platform.Membership.GetAsync(context.Cancellation);
        return now.IsIn(join) || IsPending(now, join.DomainDnsName ?? join.TenantId, join.ComputerName);
    }

    public override async Task RunAsync(JobContext context)
    {
        var join = CacheCredentialsStep.Join(context);
        await context.Platform.Membership.ApplyAsync(JoinPurpose.Destination, join, context.Cancellation);
        context.Log.Information($"Joined {join.DomainDnsName ?? join.TenantId} as {join.ComputerName}; it completes at the restart.");
    }

    internal static bool IsPending(DeviceMembership now, string? where, string name) =>
        string.Equals(now.PendingJoin, where, StringComparison.OrdinalIgnoreCase)
        && string.Equals(now.PendingComputerName ?? now.ComputerName, name, StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// Restarts the device. The boot count is journaled first, so after the restart the step sees it has happened;
/// a restart somebody aborted leaves the count as it was, and the step asks again.
/// </summary>
public sealed class RestartStep(string name, string reason, Func<JobContext, bool>? needed = null) : JobStep
{
    public override string Name => name;

    public override int Attempts => 5;

    private string Key => $"restart.{name}.bootCount";

    public override Task<bool> IsAlreadyDoneAsync(JobContext context) =>
        Task.FromResult(long.TryParse(context.Journal.Get(Key), CultureInfo.InvariantCulture, out var before) && context.Platform.Power.BootCount > before);

    public override async Task RunAsync(JobContext context)
    {
        if (needed is not null && !needed(context))
        {
            context.Log.Information("No restart needed.");
            return;
        }
        context.Journal.Set(Key, context.Platform.Power.BootCount.ToString(CultureInfo.InvariantCulture));
        context.Log.Information($"Restarting the device: {reason}.");
        if (!context.Assignment.Policy.Silent && context.Session.LoggedOnUsers.Count > 0)
        {
            await context.Session.NotifyAsync($"Your device restarts now: {reason}.", context.Cancellation);
        }
        await context.Platform.Power.RestartAsync("Rehome: " + reason, context.Cancellation);
        // The platform returns while Windows shuts down: the agent ends here either way.
        throw new DeviceRestartingException("Rehome: " + reason);
    }
}

/// <summary>
/// After the restart, proves the device is in its destination: the secure channel with a domain controller (or
/// the Entra ID join state), not only the configuration. A device that came back anywhere else goes back to its
/// source. A destination that does not answer yet, or refuses right after the boot, is asked again; past the wait
/// a refusal sends the device back, and silence leaves it (it is joined) with the secure channel reported unchecked.
/// </summary>
public sealed class ConfirmDestinationStep : JobStep
{
    /// <summary>How long the step waits for a domain controller (or Entra ID) to answer after the restart.</summary>
    public static TimeSpan ReachWait { get; set; } = TimeSpan.FromMinutes(10);

    public override async Task RunAsync(JobContext context)
    {
        var join = CacheCredentialsStep.Join(context);
        var start = context.Time.GetUtcNow();
        var delay = TimeSpan.FromSeconds(5);
        while (true)
        {
            var now = await context.Platform.Membership.GetAsync(context.Cancellation);
            if (!now.IsIn(join))
            {
                var where = now.SameMembershipAs(RecordMembershipStep.Previous(context)) ? "still in its source" : $"{now.JoinType} {now.DomainName ?? now.TenantId} as {now.ComputerName}";
                throw new StepFailedException("NotInDestination", $"After the restart the device is {where}, not in {join.DomainDnsName ?? join.TenantId} as {join.ComputerName}.");
            }
            var verified = await context.Platform.Membership.VerifyAsync(join, context.Cancellation);
            if (verified.Joined)
            {
                context.Log.Information($"In the destination: {verified.Detail}");
                return;
            }
            var waited = context.Time.GetUtcNow() - start;
            if (verified.Reachable && waited >= ReachWait)
            {
                // Refused all along (not once, right after the boot): the join did not work.
                throw new StepFailedException("DestinationRefusesDevice", $"The destination does not accept the device: {verified.Detail}");
            }
            if (!verified.Reachable && waited >= ReachWait)
            {
                context.Log.Warning($"The device is configured in {join.DomainDnsName ?? join.TenantId} but nothing there answered for {ReachWait.TotalMinutes:F0} min: {verified.Detail}");
                context.ReportFailure(new ItemResult("Secure channel", ItemOutcome.Failed, $"Not verified: {verified.Detail}"));
                return;
            }
            context.Message = $"Waiting for the destination to answer: {verified.Detail}";
            await Task.Delay(delay, context.Time, context.Cancellation);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMinutes(1).Ticks));
        }
    }
}
