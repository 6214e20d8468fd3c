using Rehome.Protocol;

namespace Rehome.Agent.Jobs.RejoinDomain;

/// <summary>
/// The way back: applies the return ticket under the source name (the platform first withdraws whatever
/// destination join is pending). A device still in its source leaves it first when it holds a ticket (making the
/// ticket reset its account's password, so its old membership no longer works); nothing to do only when no ticket
/// was ever made. A ticket no longer staged (applied by an earlier try, or never staged) is asked for again.
/// </summary>
public sealed class ApplyReturnTicketStep : JobStep
{
    internal const string NeededKey = "return.applied";

    public override int Attempts => 3;

    public override async Task<bool> IsAlreadyDoneAsync(JobContext context)
    {
        if (context.Journal.Get(ObtainReturnTicketStep.Key) is null || context.Journal.Get(NeededKey) is null)
        {
            return false;
        }
        var ticket = ObtainReturnTicketStep.Ticket(context);
        var now = await context.Platform.Membership.GetAsync(context.Cancellation);
        return JoinDestinationStep.IsPending(now, ticket.DomainDnsName ?? ticket.TenantId, ticket.ComputerName);
    }

    public override async Task RunAsync(JobContext context)
    {
        var previous = RecordMembershipStep.Previous(context);
        var now = await context.Platform.Membership.GetAsync(context.Cancellation);
        if (context.Journal.Get(ObtainReturnTicketStep.ReceivedKey) is null && now.SameMembershipAs(previous) && now.PendingJoin is null
            && string.Equals(now.PendingComputerName ?? now.ComputerName, previous.ComputerName, StringComparison.OrdinalIgnoreCase))
        {
            context.Journal.Set(NeededKey, "false");
            context.Log.Information($"The device is still in {previous.DomainName ?? previous.TenantId} as {previous.ComputerName} and no ticket was made: nothing to return.");
            return;
        }
        if (now.JoinType != DeviceJoinType.Workgroup && now.PendingJoin is null && now.SameMembershipAs(previous))
        {
            await context.Platform.Membership.LeaveSourceAsync(previous, context.Cancellation);
            context.Log.Information("Left the source again: its computer account has a new password, which only the ticket carries.");
        }
        var retry = context.Journal.Get(NeededKey) is not null;
        var ticket = context.Journal.Get(ObtainReturnTicketStep.Key) is null || retry
            ? await ObtainReturnTicketStep.ObtainAsync(context)
            : ObtainReturnTicketStep.Ticket(context);
        try
        {
            await context.Platform.Membership.ApplyAsync(JoinPurpose.Return, ticket, context.Cancellation);
        }
        catch (StepFailedException e) when (e.Code == "JoinNotPrepared")
        {
            ticket = await ObtainReturnTicketStep.ObtainAsync(context);
            await context.Platform.Membership.ApplyAsync(JoinPurpose.Return, ticket, context.Cancellation);
        }
        context.Journal.Set(NeededKey, "true");
        context.Log.Warning($"Going back to {ticket.DomainDnsName ?? ticket.TenantId} as {ticket.ComputerName} through the return ticket; it completes at the restart.");
    }

    internal static bool Applied(JobContext context) => context.Journal.Get(NeededKey) == "true";
}

/// <summary>Forgets every staged join secret at the end of a rejoin, whichever way it went.</summary>
public sealed class DiscardStagedStep : JobStep
{
    public override AfterLeavingFailure WhenFailedAfterLeaving => AfterLeavingFailure.CarryOn;

    public override Task RunAsync(JobContext context) => context.Platform.Membership.DiscardStagedAsync(context.Cancellation);
}

/// <summary>After the return restart: the device must be back in its source, and its membership must work.</summary>
public sealed class ConfirmSourceStep : JobStep
{
    public override async Task RunAsync(JobContext context)
    {
        var previous = RecordMembershipStep.Previous(context);
        var now = await context.Platform.Membership.GetAsync(context.Cancellation);
        if (!now.IsBackIn(previous))
        {
            throw new StepFailedException("NotBackInSource",
                $"After the return restart the device is {now.JoinType} {now.DomainName ?? now.TenantId} as {now.ComputerName}, not back in {previous.DomainName ?? previous.TenantId} as {previous.ComputerName}.");
        }
        if (ApplyReturnTicketStep.Applied(context))
        {
            var verified = await context.Platform.Membership.VerifyAsync(ObtainReturnTicketStep.Ticket(context), context.Cancellation);
            if (!verified.Joined && verified.Reachable)
            {
                throw new StepFailedException("SourceRefusesDevice", $"Back in the source, but it does not accept the device: {verified.Detail}");
            }
            context.Log.Information(verified.Joined ? $"Back in the source: {verified.Detail}" : $"Back in the source; its domain controllers do not answer yet: {verified.Detail}");
        }
    }
}
